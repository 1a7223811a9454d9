//! Render denoising: picks the colour-only or colour+albedo+normal network, prepares its inputs
//! (auto-exposure, HDR transfer function), runs it in tiles with context and blended seams so any
//! frame size fits a memory budget, and writes the result without ever touching an input.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::frame::{self, Encoding, Frame, FrameError};
use crate::models::{DenoiseSpec, ModelEntry, ModelError, ModelStore};
use crate::runtime::{Device, Runtime, RuntimeError, SharedSession};

/// The bundled model names.
pub const COLOR_MODEL: &str = "denoise-color";
pub const AUX_MODEL: &str = "denoise-color-aux";
/// Default working-memory budget for one tile's inference.
pub const DEFAULT_MAX_MEMORY: u64 = 2 << 30;
/// Width of the cross-fade between neighbouring tiles, in pixels.
const BLEND: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum DenoiseError {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("{path}: inference failed: {reason}")]
    Inference { path: PathBuf, reason: String },
}

#[derive(Debug, Clone)]
pub struct DenoiseOptions {
    /// Treat colour as linear HDR or display-referred LDR; `None` takes it from the file format.
    pub encoding: Option<Encoding>,
    /// Core tile size in pixels; `None` derives it from `max_memory`.
    pub tile: Option<usize>,
    pub max_memory: u64,
    /// Use albedo/normal passes when the frame has them.
    pub use_aux: bool,
    /// Side files for frames without embedded passes, e.g. `{stem}_albedo.{ext}`; see [`side_file`].
    pub albedo_pattern: Option<String>,
    pub normal_pattern: Option<String>,
}

impl Default for DenoiseOptions {
    fn default() -> Self {
        DenoiseOptions {
            encoding: None,
            tile: None,
            max_memory: DEFAULT_MAX_MEMORY,
            use_aux: true,
            albedo_pattern: Some("{stem}_albedo.{ext}".into()),
            normal_pattern: Some("{stem}_normal.{ext}".into()),
        }
    }
}

/// What happened to one frame.
#[derive(Debug, Clone)]
pub struct DenoiseReport {
    pub input: PathBuf,
    pub output: PathBuf,
    pub model: String,
    pub device: Device,
    pub tiles: usize,
    pub millis: u128,
}

/// A denoised frame's colour (same encoding as the input) and how it was made.
#[derive(Debug, Clone)]
pub struct Denoised {
    pub color: Vec<f32>,
    pub model: String,
    pub device: Device,
    pub tiles: usize,
}

/// A network ready to run: manifest checked against file and graph.
struct LoadedModel {
    name: String,
    spec: DenoiseSpec,
    session: SharedSession,
    device: Device,
}

/// Denoises frames with the bundled models. Models load on first use and stay loaded.
pub struct Denoiser {
    runtime: Arc<Runtime>,
    store: ModelStore,
    color: std::sync::OnceLock<Arc<LoadedModel>>,
    aux: std::sync::OnceLock<Arc<LoadedModel>>,
}

impl Denoiser {
    pub fn new(runtime: Arc<Runtime>, store: ModelStore) -> Self {
        Denoiser { runtime, store, color: Default::default(), aux: Default::default() }
    }

    fn model(&self, with_aux: bool) -> Result<Arc<LoadedModel>, DenoiseError> {
        let (slot, name) = if with_aux { (&self.aux, AUX_MODEL) } else { (&self.color, COLOR_MODEL) };
        if let Some(m) = slot.get() {
            return Ok(m.clone());
        }
        let loaded = Arc::new(load_model(&self.runtime, &self.store.get(name)?)?);
        Ok(slot.get_or_init(|| loaded).clone())
    }

    /// Denoises one frame in memory; `path` only names the frame in errors.
    pub fn denoise_frame(&self, frame: &Frame, opts: &DenoiseOptions, path: &Path) -> Result<Denoised, DenoiseError> {
        frame.check_finite(path)?;
        let with_aux = opts.use_aux && frame.albedo.is_some() && frame.normal.is_some();
        if opts.use_aux && frame.albedo.is_some() != frame.normal.is_some() {
            tracing::warn!("{}: only one of albedo/normal is present; denoising from colour alone", path.display());
        }
        let model = self.model(with_aux)?;
        let encoding = opts.encoding.unwrap_or(frame.encoding);
        let linear: Vec<f32> = match encoding {
            Encoding::Linear => frame.color.iter().map(|v| v.max(0.0)).collect(),
            Encoding::Srgb => frame.color.iter().map(|&v| frame::srgb_to_linear(v.clamp(0.0, 1.0))).collect(),
        };
        let exposure = autoexposure(&linear, frame.width, frame.height);
        let input = Planes::build(frame, &linear, exposure, with_aux);
        let core = tile_core_size(frame.width, frame.height, &model.spec, opts);
        let (out, tiles) = run_tiled(&model, &input, core, path)?;
        let color = out
            .iter()
            .map(|&t| {
                let v = (t.exp() - 1.0).max(0.0) / exposure;
                match encoding {
                    Encoding::Linear => v,
                    Encoding::Srgb => frame::linear_to_srgb(v).clamp(0.0, 1.0),
                }
            })
            .collect();
        Ok(Denoised { color, model: model.name.clone(), device: model.device, tiles })
    }

    /// Reads `input` (plus side-file passes), denoises it and writes `output` atomically.
    pub fn denoise_file(&self, input: &Path, output: &Path, opts: &DenoiseOptions) -> Result<DenoiseReport, DenoiseError> {
        let start = Instant::now();
        let mut frame = frame::read_frame(input)?;
        let mut inputs = vec![input.to_path_buf()];
        if opts.use_aux {
            for (pass, pattern) in [("albedo", &opts.albedo_pattern), ("normal", &opts.normal_pattern)] {
                let present = if pass == "albedo" { frame.albedo.is_some() } else { frame.normal.is_some() };
                let Some(side) = pattern.as_deref().and_then(|p| side_file(input, p)) else { continue };
                if present || !side.is_file() {
                    continue;
                }
                let data = frame::read_side_pass(&side, pass, frame.width, frame.height)?;
                if pass == "albedo" { frame.albedo = Some(data) } else { frame.normal = Some(data) }
                inputs.push(side);
            }
        }
        if inputs.iter().any(|i| i == output || frame::is_same_file(output, i)) {
            return Err(FrameError::WouldOverwriteInput { path: output.to_path_buf() }.into());
        }
        let done = self.denoise_frame(&frame, opts, input)?;
        frame.color = done.color;
        frame::write_frame_atomic(&frame, output)?;
        Ok(DenoiseReport {
            input: input.to_path_buf(),
            output: output.to_path_buf(),
            model: done.model,
            device: done.device,
            tiles: done.tiles,
            millis: start.elapsed().as_millis(),
        })
    }
}

fn load_model(runtime: &Runtime, entry: &ModelEntry) -> Result<LoadedModel, DenoiseError> {
    let manifest_path = entry.dir.join(crate::models::MANIFEST_FILE);
    let bad = |reason: &str| ModelError::Manifest { path: manifest_path.clone(), reason: reason.into() };
    let spec = entry.manifest.denoise.clone().ok_or_else(|| bad("missing [denoise] table"))?;
    if entry.manifest.transfer != "log1p" {
        return Err(bad(&format!("unknown transfer function `{}` (this build knows log1p)", entry.manifest.transfer)).into());
    }
    if spec.spatial_multiple == 0 || BLEND / 2 > spec.context {
        return Err(bad("spatial_multiple must be > 0 and context at least 8").into());
    }
    // The engine feeds colour, then albedo, then normal: the manifest must promise that order.
    let expected: &[&str] = if entry.manifest.name == AUX_MODEL { &["albedo", "normal"] } else { &[] };
    if spec.aux != expected {
        return Err(bad(&format!("[denoise] aux is {:?}, this engine feeds {:?}", spec.aux, expected)).into());
    }
    let (session, device) = entry.open(runtime).map_err(|e| match e {
        crate::models::LoadError::Model(e) => DenoiseError::Model(e),
        crate::models::LoadError::Runtime(e) => DenoiseError::Runtime(e),
    })?;
    Ok(LoadedModel { name: entry.manifest.name.clone(), spec, session, device })
}

/// Replaces `{dir}`, `{stem}`, `{ext}`, `{name}` (stem without its trailing frame number) and
/// `{frame}` (that number) in `pattern`, relative to the input's folder.
pub fn side_file(input: &Path, pattern: &str) -> Option<PathBuf> {
    let stem = input.file_stem()?.to_str()?;
    let ext = input.extension().and_then(|e| e.to_str()).unwrap_or("");
    let digits = stem.len() - stem.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (name, frame_no) = stem.split_at(stem.len() - digits);
    let name = name.trim_end_matches(['_', '.', '-']);
    let rel = pattern.replace("{stem}", stem).replace("{ext}", ext).replace("{name}", name).replace("{frame}", frame_no);
    let dir = input.parent().unwrap_or(Path::new(""));
    Some(if rel.contains("{dir}") { PathBuf::from(rel.replace("{dir}", &dir.to_string_lossy())) } else { dir.join(rel) })
}

/// OIDN-style auto-exposure: the geometric mean luminance of 16×16 blocks maps to 0.18, so the
/// network sees the same brightness whatever the render's absolute scale.
pub fn autoexposure(rgb: &[f32], width: usize, height: usize) -> f32 {
    const BLOCK: usize = 16;
    let (mut sum, mut count) = (0.0f64, 0usize);
    for by in (0..height).step_by(BLOCK) {
        for bx in (0..width).step_by(BLOCK) {
            let (mut l, mut n) = (0.0f64, 0usize);
            for y in by..(by + BLOCK).min(height) {
                for x in bx..(bx + BLOCK).min(width) {
                    let p = &rgb[(y * width + x) * 3..][..3];
                    l += (0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2]) as f64;
                    n += 1;
                }
            }
            let l = l / n as f64;
            if l > 1e-8 {
                sum += l.log2();
                count += 1;
            }
        }
    }
    if count == 0 {
        return 1.0;
    }
    (0.18 / (sum / count as f64).exp2()) as f32
}

/// The network input for the whole frame, planar (C×H×W), already transformed.
struct Planes {
    channels: usize,
    width: usize,
    height: usize,
    data: Vec<f32>,
}

impl Planes {
    fn build(frame: &Frame, linear: &[f32], exposure: f32, with_aux: bool) -> Self {
        let n = frame.pixels();
        let channels = if with_aux { 9 } else { 3 };
        let mut data = vec![0.0f32; channels * n];
        for i in 0..n {
            for c in 0..3 {
                data[c * n + i] = (linear[i * 3 + c] * exposure).ln_1p();
            }
        }
        if let (true, Some(albedo), Some(normal)) = (with_aux, &frame.albedo, &frame.normal) {
            for i in 0..n {
                for c in 0..3 {
                    data[(3 + c) * n + i] = albedo[i * 3 + c].clamp(0.0, 1.0);
                    data[(6 + c) * n + i] = normal[i * 3 + c].clamp(-1.0, 1.0);
                }
            }
        }
        Planes { channels, width: frame.width, height: frame.height, data }
    }

    /// Copies a region into a buffer whose size is padded up to `multiple`, repeating edge pixels.
    fn region(&self, x0: usize, y0: usize, x1: usize, y1: usize, multiple: usize) -> (usize, usize, Vec<f32>) {
        let pw = (x1 - x0).div_ceil(multiple) * multiple;
        let ph = (y1 - y0).div_ceil(multiple) * multiple;
        let n = self.width * self.height;
        let mut out = vec![0.0f32; self.channels * pw * ph];
        for c in 0..self.channels {
            for y in 0..ph {
                let sy = (y0 + y).min(y1 - 1);
                let src = &self.data[c * n + sy * self.width..][..self.width];
                let dst = &mut out[(c * ph + y) * pw..][..pw];
                for (x, d) in dst.iter_mut().enumerate() {
                    *d = src[(x0 + x).min(x1 - 1)];
                }
            }
        }
        (pw, ph, out)
    }
}

/// Core tile size: `--tile` when given, else the largest that keeps one tile (with its context)
/// within the memory budget. Returns a size ≥ the frame for untiled inference.
fn tile_core_size(width: usize, height: usize, spec: &DenoiseSpec, opts: &DenoiseOptions) -> usize {
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
fn run_tiled(model: &LoadedModel, input: &Planes, core: usize, path: &Path) -> Result<(Vec<f32>, usize), DenoiseError> {
    let (w, h) = (input.width, input.height);
    let m = model.spec.spatial_multiple;
    let ctx = model.spec.context.div_ceil(m) * m;
    let mut acc = vec![0.0f32; w * h * 3];
    let mut weight = vec![0.0f32; w * h];
    let mut tiles = 0;
    let infer_err = |e: ort::Error| DenoiseError::Inference { path: path.to_path_buf(), reason: e.to_string() };
    let mut session = model.session.lock().unwrap_or_else(|p| p.into_inner());
    for ty in (0..h).step_by(core) {
        for tx in (0..w).step_by(core) {
            let (cx1, cy1) = ((tx + core).min(w), (ty + core).min(h));
            let (rx0, ry0) = (tx.saturating_sub(ctx), ty.saturating_sub(ctx));
            let (rx1, ry1) = ((cx1 + ctx).min(w), (cy1 + ctx).min(h));
            let (pw, ph, data) = input.region(rx0, ry0, rx1, ry1, m);
            let tensor = ort::value::TensorRef::from_array_view(([1usize, input.channels, ph, pw], &data[..])).map_err(infer_err)?;
            let outputs = session.run(ort::inputs![tensor]).map_err(infer_err)?;
            let (shape, out) = outputs[0].try_extract_tensor::<f32>().map_err(infer_err)?;
            if shape.len() != 4 || shape[1] != 3 || shape[2] as usize != ph || shape[3] as usize != pw {
                return Err(DenoiseError::Inference { path: path.to_path_buf(), reason: format!("unexpected output shape {shape:?}") });
            }
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
        let rise = if self.lo == self.start { 1.0 } else { ((p - (self.start as f32 - half)) / BLEND as f32).clamp(0.0, 1.0) };
        let fall = if self.hi == self.end { 1.0 } else { (((self.end as f32 + half) - p) / BLEND as f32).clamp(0.0, 1.0) };
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
    fn autoexposure_maps_mid_grey() {
        let rgb = vec![5.0f32; 32 * 32 * 3];
        let e = autoexposure(&rgb, 32, 32);
        assert!((e * 5.0 - 0.18).abs() < 1e-4);
        assert_eq!(autoexposure(&vec![0.0; 12], 2, 2), 1.0);
    }

    #[test]
    fn side_files_follow_the_pattern() {
        let p = Path::new("/r/beauty_0042.exr");
        assert_eq!(side_file(p, "{stem}_albedo.{ext}").unwrap(), PathBuf::from("/r/beauty_0042_albedo.exr"));
        assert_eq!(side_file(p, "aux/{name}.albedo.{frame}.png").unwrap(), PathBuf::from("/r/aux/beauty.albedo.0042.png"));
    }

    #[test]
    fn tile_size_respects_the_budget() {
        let spec = DenoiseSpec { aux: vec![], spatial_multiple: 16, context: 64, peak_bytes_per_pixel: 1000 };
        let mut opts = DenoiseOptions { max_memory: 1 << 40, ..Default::default() };
        assert_eq!(tile_core_size(1920, 1080, &spec, &opts), 1920);
        opts.max_memory = 100_000_000; // 100k px: 316² incl. context
        let t = tile_core_size(7680, 4320, &spec, &opts);
        assert!(t % 16 == 0 && (t + 128) * (t + 128) <= 100_000 && t >= 64, "{t}");
        opts.tile = Some(0);
        assert_eq!(tile_core_size(64, 64, &spec, &opts), 32);
    }

    #[test]
    fn region_pads_by_repeating_edges() {
        let frame = Frame::new_rgb(3, 2, (0..18).map(|v| v as f32).collect(), Encoding::Linear, crate::frame::FileFormat::Exr);
        let planes = Planes { channels: 3, width: 3, height: 2, data: {
            let mut d = vec![0.0; 18];
            for i in 0..6 { for c in 0..3 { d[c * 6 + i] = frame.color[i * 3 + c]; } }
            d
        } };
        let (pw, ph, r) = planes.region(1, 0, 3, 2, 4);
        assert_eq!((pw, ph), (4, 4));
        // channel 0, row 0: pixels x=1,2 then x=2 repeated
        assert_eq!(&r[0..4], &[3.0, 6.0, 6.0, 6.0]);
        // row 3 repeats row 1
        assert_eq!(&r[12..16], &[12.0, 15.0, 15.0, 15.0]);
    }
}
