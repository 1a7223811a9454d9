//! The blend of one window: history carried from the window's first frame to its last, each step
//! reprojected by the frame's motion and mixed with the frame's own single-frame result.
//!
//! What history may say is bounded by the frame itself (neighbourhood clipping, as in temporal
//! anti-aliasing): per channel, in display units, the reprojected history is clamped to the
//! range of the frame's own result over the pixel's 3x3 neighbourhood, widened by the local noise
//! estimate. At an anti-aliased edge that only jitters between frames the neighbourhood holds
//! both sides of the edge, so history survives and the edge stays steady; where a surface really
//! changed (a disocclusion, a moving light) the history lies outside what the frame's
//! neighbourhood shows and is clamped to it, so nothing trails. A clamp alone lets history through
//! wherever the neighbourhood's range is wide, as on a black and white checker, where a moving
//! object's old colour lies inside it and trails; so where the frame has albedo and normal passes
//! (noise-free in Blender's Denoising Data), history is also weighed by how far the surface it
//! came from is from the nearest surface of the pixel's neighbourhood: a disocclusion changes the
//! surface, an edge that jitters does not. The earlier rule, dropping history wherever it
//! differed from the frame by more than the local noise, lost it at exactly those edges (issue
//! 37's static-camera shots).

use super::{reproject, Motion};
use crate::denoise::metrics::{display_inverse, display_value};
use crate::io::frame::Encoding;

use super::TemporalParams;

/// Radius of the box over which the local noise is estimated.
const NOISE_RADIUS: usize = 3;
/// Radius of the neighbourhood whose range bounds the history.
const CLIP_RADIUS: usize = 1;
/// Radius of the box over which history's disagreement with the frame is averaged.
const DIFF_RADIUS: usize = 1;
/// Motion closer than this to whole pixels carries history without resampling it.
const WHOLE_PIXEL: f32 = 0.01;
/// A normal's difference counts this much against an albedo difference of the same size.
const NORMAL_SCALE: f32 = 0.5;

/// One frame of a window as the blend needs it.
pub(super) struct WindowFrame<'a> {
    pub(super) noisy: &'a [f32],
    pub(super) denoised: &'a [f32],
    /// Albedo and normal, interleaved RGB, when the frame has both.
    pub(super) surface: Option<(&'a [f32], &'a [f32])>,
    /// Motion to the frame before it (unused for the window's first frame).
    pub(super) motion: Option<&'a Motion>,
}

/// The window's last frame with history carried from its first, oldest first.
pub(super) fn blend_window(
    frames: &[WindowFrame],
    width: usize,
    height: usize,
    encoding: Encoding,
    params: &TemporalParams,
) -> Vec<f32> {
    let disp = |v: f32| display_value(v, encoding);
    let mut history = frames[0].denoised.to_vec();
    for (previous, f) in frames.iter().zip(&frames[1..]) {
        let Some(motion) = f.motion else {
            history = f.denoised.to_vec();
            continue;
        };
        let warped = reproject(&history, width, height, motion, (1.0, 1.0));
        let n = width * height;
        let kept = match (previous.surface, f.surface) {
            (Some(before), Some(now)) => surface_kept(before, now, motion, width, height, params.surface_tolerance),
            _ => vec![1.0; n],
        };
        let noise: Vec<f32> = (0..n)
            .map(|i| (0..3).map(|c| (disp(f.noisy[i * 3 + c]) - disp(f.denoised[i * 3 + c])).abs()).sum::<f32>() / 3.0)
            .collect();
        let noise = box_mean(&noise, width, height, NOISE_RADIUS);
        let shown: Vec<f32> = f.denoised.iter().map(|&v| disp(v)).collect();
        let (low, high) = neighbourhood_range(&shown, width, height, CLIP_RADIUS);
        let gap = box_mean(&nearest_match(&warped, &shown, motion, width, height, disp), width, height, DIFF_RADIUS);
        history = (0..n * 3)
            .map(|k| {
                let i = k / 3;
                // Outside the frame before: the frame's own result.
                let Some(h) = warped[i] else { return f.denoised[k] };
                let h = h[k % 3];
                let slack = params.tolerance * noise[i] + params.tolerance_floor;
                let (lo, hi) = (low[k] - slack, high[k] + slack);
                let seen = disp(h);
                let h = if seen < lo || seen > hi { display_inverse(seen.clamp(lo, hi), encoding) } else { h };
                let agrees = (1.0 - gap[i] / slack).clamp(0.0, 1.0);
                let weight = params.history_weight * kept[i] * agrees;
                weight * h + (1.0 - weight) * f.denoised[k]
            })
            .collect();
    }
    history
}

/// Per pixel, how far the history (display units, largest channel) is from the frame's own result.
/// Where the pixel moved by whole pixels (a still camera: most pixels do not move at all), the
/// history was carried without resampling, and the best of nine positions up to half a pixel
/// away counts: an anti-aliased edge that a new sample pattern moved by a fraction of a pixel
/// matches, a change of shading or surface does not. Elsewhere the history was resampled
/// (bilinearly, so a little blurred) and only the pixel itself counts, or the blur would be
/// accepted and build up.
fn nearest_match(
    warped: &[Option<[f32; 3]>],
    shown: &[f32],
    motion: &Motion,
    width: usize,
    height: usize,
    disp: impl Fn(f32) -> f32,
) -> Vec<f32> {
    let (w, h) = (width as f32 - 1.0, height as f32 - 1.0);
    let sample = |x: f32, y: f32, c: usize| {
        let (x, y) = (x.clamp(0.0, w), y.clamp(0.0, h));
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(width - 1), (y0 + 1).min(height - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let px = |x: usize, y: usize| shown[(y * width + x) * 3 + c];
        (px(x0, y0) * (1.0 - fx) + px(x1, y0) * fx) * (1.0 - fy) + (px(x0, y1) * (1.0 - fx) + px(x1, y1) * fx) * fy
    };
    const OFFSETS: [f32; 3] = [-0.5, 0.0, 0.5];
    (0..width * height)
        .map(|i| {
            let Some(hist) = warped[i] else { return 1.0 };
            let seen = hist.map(&disp);
            let (x, y) = ((i % width) as f32, (i / width) as f32);
            let offsets: &[f32] = if whole_pixels(motion, i) { &OFFSETS } else { &[0.0] };
            let mut best = f32::INFINITY;
            for &oy in offsets {
                for &ox in offsets {
                    let gap = (0..3).map(|c| (seen[c] - sample(x + ox, y + oy, c)).abs()).fold(0.0, f32::max);
                    best = best.min(gap);
                }
            }
            best
        })
        .collect()
}

/// Whether pixel `i` moved by whole pixels, so its history was carried without resampling.
fn whole_pixels(motion: &Motion, i: usize) -> bool {
    let whole = |d: f32| (d - d.round()).abs() < WHOLE_PIXEL;
    whole(motion.dx[i]) && whole(motion.dy[i])
}

/// Per pixel, how much history may be kept by its surface: 1 where the surface the history came
/// from (the previous frame's albedo and normal, reprojected) matches a surface of the pixel's 3x3
/// neighbourhood now (the pixel's own where the history was resampled), falling to 0 at a difference of `tolerance` (albedo units; normals count
/// [`NORMAL_SCALE`] as much).
fn surface_kept(
    before: (&[f32], &[f32]),
    now: (&[f32], &[f32]),
    motion: &Motion,
    width: usize,
    height: usize,
    tolerance: f32,
) -> Vec<f32> {
    let albedo = reproject(before.0, width, height, motion, (1.0, 1.0));
    let normal = reproject(before.1, width, height, motion, (1.0, 1.0));
    (0..width * height)
        .map(|i| {
            let (Some(a), Some(nrm)) = (albedo[i], normal[i]) else { return 0.0 };
            let (x, y) = (i % width, i / width);
            // As in `nearest_match`: the neighbourhood only where nothing was resampled.
            let r = if whole_pixels(motion, i) { CLIP_RADIUS } else { 0 };
            let mut nearest = f32::INFINITY;
            for ny in y.saturating_sub(r)..=(y + r).min(height - 1) {
                for nx in x.saturating_sub(r)..=(x + r).min(width - 1) {
                    let j = (ny * width + nx) * 3;
                    let gap = (0..3)
                        .map(|c| (a[c] - now.0[j + c]).abs().max(NORMAL_SCALE * (nrm[c] - now.1[j + c]).abs()))
                        .fold(0.0, f32::max);
                    nearest = nearest.min(gap);
                }
            }
            (1.0 - nearest / tolerance).clamp(0.0, 1.0)
        })
        .collect()
}

/// Per value of interleaved RGB `plane`, the lowest and highest of its channel over the
/// (2r+1)² neighbourhood (edges repeated).
fn neighbourhood_range(plane: &[f32], width: usize, height: usize, r: usize) -> (Vec<f32>, Vec<f32>) {
    let (mut low, mut high) = (vec![0.0; plane.len()], vec![0.0; plane.len()]);
    for y in 0..height {
        for x in 0..width {
            for c in 0..3 {
                let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
                for ny in y.saturating_sub(r)..=(y + r).min(height - 1) {
                    for nx in x.saturating_sub(r)..=(x + r).min(width - 1) {
                        let v = plane[(ny * width + nx) * 3 + c];
                        lo = lo.min(v);
                        hi = hi.max(v);
                    }
                }
                low[(y * width + x) * 3 + c] = lo;
                high[(y * width + x) * 3 + c] = hi;
            }
        }
    }
    (low, high)
}

/// Mean over a (2r+1)² box, edges repeated; separable running sums.
fn box_mean(plane: &[f32], width: usize, height: usize, r: usize) -> Vec<f32> {
    let pass = |src: &[f32], len: usize, count: usize, at: &dyn Fn(usize, usize) -> usize| {
        let mut out = vec![0.0f32; src.len()];
        for line in 0..count {
            let get = |k: isize| src[at(line, k.clamp(0, len as isize - 1) as usize)];
            let mut sum: f32 = (-(r as isize)..=r as isize).map(get).sum();
            for k in 0..len {
                out[at(line, k)] = sum / (2 * r + 1) as f32;
                sum += get(k as isize + r as isize + 1) - get(k as isize - r as isize);
            }
        }
        out
    };
    let rows = pass(plane, width, height, &|y, x| y * width + x);
    pass(&rows, height, width, &|x, y| y * width + x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn still(width: usize, height: usize, value: impl Fn(usize, usize) -> f32) -> Vec<f32> {
        (0..width * height).flat_map(|i| [value(i % width, i / width); 3]).collect()
    }

    fn static_motion(w: usize, h: usize) -> Motion {
        Motion { dx: vec![0.0; w * h], dy: vec![0.0; w * h] }
    }

    #[test]
    fn history_steadies_a_flickering_flat_area() {
        let (w, h) = (24, 24);
        let motion = static_motion(w, h);
        let params = TemporalParams::default();
        // Noisy input far from the result: much noise, so a 0.02 flicker is well within tolerance.
        let noisy = still(w, h, |x, y| if (x + y) % 2 == 0 { 0.0 } else { 1.0 });
        let (a, b) = (still(w, h, |_, _| 0.50), still(w, h, |_, _| 0.52));
        let frames = [
            WindowFrame { noisy: &noisy, denoised: &a, surface: None, motion: None },
            WindowFrame { noisy: &noisy, denoised: &b, surface: None, motion: Some(&motion) },
        ];
        let out = blend_window(&frames, w, h, Encoding::Srgb, &params);
        let weight = 0.8 * (1.0 - 0.02 / (params.tolerance * 0.5 + params.tolerance_floor));
        assert!((out[0] - (weight * 0.50 + (1.0 - weight) * 0.52)).abs() < 1e-5, "{}", out[0]);
    }

    #[test]
    fn a_jittered_edge_keeps_its_history_and_a_change_does_not() {
        let (w, h) = (16, 8);
        let motion = static_motion(w, h);
        let params = TemporalParams::default();
        // A black/white edge at x = 8 whose anti-aliased pixel moves by 0.4 px between frames,
        // with a little noise (0.05): the edge pixel differs by 0.4, far more than the noise
        // explains (the rule before issue 37 dropped its history), but matches the frame half a
        // pixel away.
        let edge = |at: f32| still(w, h, move |x, _| (x as f32 + 0.5 - at).clamp(0.0, 1.0));
        let (before, after) = (edge(8.2), edge(7.8));
        let noisy: Vec<f32> =
            after.iter().enumerate().map(|(k, v)| v + if k % 2 == 0 { 0.05 } else { -0.05 }).collect();
        let frames = [
            WindowFrame { noisy: &before, denoised: &before, surface: None, motion: None },
            WindowFrame { noisy: &noisy, denoised: &after, surface: None, motion: Some(&motion) },
        ];
        let out = blend_window(&frames, w, h, Encoding::Srgb, &params);
        let at = |x: usize| out[(3 * w + x) * 3];
        let kept = |x: usize| (at(x) - after[(3 * w + x) * 3]) / (before[(3 * w + x) * 3] - after[(3 * w + x) * 3]);
        // Pixel 8 is the edge's (0.3 before, 0.7 after); its neighbours do not change.
        assert!(kept(8) > 0.5, "the edge pixel kept only {:.2} of its history", kept(8));
        // A flat area that turned from 0.2 to 0.9 (a light moved in): the history is dropped.
        let (old, new) = (still(w, h, |_, _| 0.2), still(w, h, |_, _| 0.9));
        let frames = [
            WindowFrame { noisy: &old, denoised: &old, surface: None, motion: None },
            WindowFrame { noisy: &new, denoised: &new, surface: None, motion: Some(&motion) },
        ];
        let out = blend_window(&frames, w, h, Encoding::Srgb, &params);
        assert!(out.iter().all(|v| (v - 0.9).abs() < 1e-6), "history trails: {}", out[0]);
    }

    #[test]
    fn a_disoccluded_surface_drops_history_inside_a_wide_neighbourhood() {
        // A checker floor (black/white pixels) where a pink object stood the frame before: its
        // colour lies inside the checker's range, and the noise is large, but its albedo matches
        // no albedo of the floor around it.
        let (w, h) = (8, 8);
        let motion = static_motion(w, h);
        let checker = still(w, h, |x, y| if (x + y) % 2 == 0 { 0.05 } else { 0.9 });
        let pink: Vec<f32> = (0..w * h).flat_map(|_| [0.8, 0.3, 0.3]).collect();
        let noisy = still(w, h, |x, _| if x % 2 == 0 { 0.0 } else { 1.0 });
        let up = still(w, h, |_, _| 0.0).chunks(3).flat_map(|_| [0.0, 0.0, 1.0]).collect::<Vec<f32>>();
        let frames = [
            WindowFrame { noisy: &noisy, denoised: &pink, surface: Some((&pink, &up)), motion: None },
            WindowFrame { noisy: &noisy, denoised: &checker, surface: Some((&checker, &up)), motion: Some(&motion) },
        ];
        let out = blend_window(&frames, w, h, Encoding::Srgb, &TemporalParams::default());
        assert_eq!(out, checker, "the pink object trails");
    }

    #[test]
    fn hdr_history_is_clamped_in_display_units_and_comes_back_finite() {
        let (w, h) = (4, 4);
        let motion = static_motion(w, h);
        let (hot, cool) = (still(w, h, |_, _| 1e6), still(w, h, |_, _| 0.5));
        let frames = [
            WindowFrame { noisy: &hot, denoised: &hot, surface: None, motion: None },
            WindowFrame { noisy: &cool, denoised: &cool, surface: None, motion: Some(&motion) },
        ];
        let out = blend_window(&frames, w, h, Encoding::Linear, &TemporalParams::default());
        assert!(out.iter().all(|v| v.is_finite() && *v < 1.0), "{}", out[0]);
    }

    #[test]
    fn box_mean_keeps_constants_and_averages() {
        let plane: Vec<f32> = (0..20).map(|v| (v % 5) as f32).collect();
        let out = box_mean(&plane, 5, 4, 1);
        assert!((out[2] - 2.0).abs() < 1e-6 && (out[0] - (0.0 + 0.0 + 1.0) / 3.0).abs() < 1e-6);
        assert!(box_mean(&[3.0; 12], 4, 3, 2).iter().all(|&v| (v - 3.0).abs() < 1e-6));
    }

    #[test]
    fn display_inverse_undoes_display_value() {
        for v in [0.0f32, 0.01, 0.5, 1.0, 7.0, 200.0] {
            let back = display_inverse(display_value(v, Encoding::Linear), Encoding::Linear);
            assert!((back - v).abs() <= 1e-3 * v.max(1.0), "{v} -> {back}");
        }
    }
}
