//! Tiled inference: any frame size fits a memory budget. Tiles carry the network's receptive
//! field as context and cross-fade over [`BLEND`] pixels, so seams are invisible.

use std::path::Path;

use super::model::LoadedModel;
use super::prepare::Planes;
use super::{DenoiseError, DenoiseOptions, DenoiseSpec, BLEND};
use crate::infer::{self, Input};

/// Core tile size: `--tile` when given, else the largest that keeps one tile (with its context)
/// within the memory budget. Returns a size ≥ the frame for untiled inference.
pub(super) fn tile_core_size(width: usize, height: usize, spec: &DenoiseSpec, opts: &DenoiseOptions) -> usize {
    let m = spec.spatial_multiple;
    let ctx = spec.context.div_ceil(m) * m;
    if let Some(t) = opts.tile {
        // Smaller cores would spend nearly all time on context; front ends reject them earlier.
        return t.max(2 * m).div_ceil(m) * m;
    }
    let budget_px = (opts.max_memory / spec.peak_bytes_per_pixel.max(1)) as usize;
    let padded = width.div_ceil(m) * m * height.div_ceil(m) * m;
    if padded <= budget_px {
        return width.max(height).div_ceil(m) * m;
    }
    let side = ((budget_px as f64).sqrt() as usize).saturating_sub(2 * ctx);
    (side / m * m).max(4 * m)
}

/// Runs the network over the frame in tiles and returns the planar-to-interleaved RGB output in
/// the transfer domain, plus the number of tiles run.
pub(super) fn run_tiled(
    model: &LoadedModel,
    input: &Planes,
    core: usize,
    path: &Path,
) -> Result<(Vec<f32>, usize), DenoiseError> {
    let (w, h) = (input.width, input.height);
    let m = model.spec.spatial_multiple;
    let ctx = model.spec.context.div_ceil(m) * m;
    let mut acc = vec![0.0f32; w * h * 3];
    let mut weight = vec![0.0f32; w * h];
    let mut tiles = 0;
    let failed = |source| DenoiseError::Inference { path: path.to_path_buf(), source };
    for ty in (0..h).step_by(core) {
        for tx in (0..w).step_by(core) {
            let (cx1, cy1) = ((tx + core).min(w), (ty + core).min(h));
            let (rx0, ry0) = (tx.saturating_sub(ctx), ty.saturating_sub(ctx));
            let (rx1, ry1) = ((cx1 + ctx).min(w), (cy1 + ctx).min(h));
            let (pw, ph, data) = input.region(rx0, ry0, rx1, ry1, m, model.input_channels);
            let input = Input::new([1, model.input_channels, ph, pw], &data);
            let outputs = infer::run(&model.session, &model.name, &[input]).map_err(failed)?;
            let out = outputs.f32(0, &[-1, 3, ph as i64, pw as i64]).map_err(failed)?;
            // Each tile owns its core and fades in/out over BLEND pixels across interior edges;
            // neighbouring ramps sum to one, so the seams are invisible.
            let ramp_x = Ramp::new(tx, cx1, w);
            let ramp_y = Ramp::new(ty, cy1, h);
            let plane = ph * pw;
            for y in ramp_y.lo..ramp_y.hi {
                let wy = ramp_y.weight(y);
                for x in ramp_x.lo..ramp_x.hi {
                    let wgt = wy * ramp_x.weight(x);
                    let at = (y - ry0) * pw + (x - rx0);
                    let i = y * w + x;
                    for c in 0..3 {
                        acc[i * 3 + c] += wgt * out[c * plane + at];
                    }
                    weight[i] += wgt;
                }
            }
            tiles += 1;
        }
    }
    for (i, wt) in weight.iter().enumerate() {
        for c in 0..3 {
            acc[i * 3 + c] /= wt.max(1e-12);
        }
    }
    Ok((acc, tiles))
}

/// 1-D blend weights of one tile: 1 inside its core, linear ramps of width BLEND centred on
/// interior core edges, 0 outside; image borders get no ramp.
struct Ramp {
    start: usize,
    end: usize,
    lo: usize,
    hi: usize,
}

impl Ramp {
    fn new(start: usize, end: usize, size: usize) -> Self {
        let lo = if start == 0 { 0 } else { start - BLEND / 2 };
        let hi = if end == size { size } else { (end + BLEND / 2).min(size) };
        Ramp { start, end, lo, hi }
    }

    fn weight(&self, p: usize) -> f32 {
        let p = p as f32 + 0.5;
        let half = (BLEND / 2) as f32;
        let rise =
            if self.lo == self.start { 1.0 } else { ((p - (self.start as f32 - half)) / BLEND as f32).clamp(0.0, 1.0) };
        let fall =
            if self.hi == self.end { 1.0 } else { (((self.end as f32 + half) - p) / BLEND as f32).clamp(0.0, 1.0) };
        rise.min(fall)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbouring_ramps_sum_to_one() {
        let (a, b) = (Ramp::new(0, 64, 128), Ramp::new(64, 128, 128));
        for p in 0..128 {
            let wa = if (a.lo..a.hi).contains(&p) { a.weight(p) } else { 0.0 };
            let wb = if (b.lo..b.hi).contains(&p) { b.weight(p) } else { 0.0 };
            assert!((wa + wb - 1.0).abs() < 1e-6, "p={p}: {wa}+{wb}");
        }
    }

    #[test]
    fn tile_size_respects_the_budget() {
        let spec = DenoiseSpec {
            range: "hdr".into(),
            aux: vec![],
            spatial_multiple: 16,
            context: 64,
            peak_bytes_per_pixel: 1000,
        };
        let mut opts = DenoiseOptions { max_memory: 1 << 40, ..Default::default() };
        assert_eq!(tile_core_size(1920, 1080, &spec, &opts), 1920);
        opts.max_memory = 100_000_000; // 100k px: 316² incl. context
        let t = tile_core_size(7680, 4320, &spec, &opts);
        assert!(t.is_multiple_of(16) && (t + 128) * (t + 128) <= 100_000 && t >= 64, "{t}");
        opts.tile = Some(0);
        assert_eq!(tile_core_size(64, 64, &spec, &opts), 32);
    }
}
