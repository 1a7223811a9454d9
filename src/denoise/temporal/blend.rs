//! The blend of one window: history carried from the window's first frame to its last, each step
//! reprojected by the frame's motion and mixed with the frame's own single-frame result.
//!
//! What history may say is bounded by the frame itself (neighbourhood clipping, as in temporal
//! anti-aliasing): per channel, in display units, the reprojected history is clamped to the
//! range of the frame's own result over the pixel's 3x3 neighbourhood, widened by the local noise
//! estimate. At an anti-aliased edge that only jitters between frames the neighbourhood holds
//! both sides of the edge, so history survives and the edge stays steady; where a surface really
//! changed (a disocclusion, a moving light) the history lies outside what the frame's
//! neighbourhood shows and is clamped to it, so nothing trails. The earlier rule, dropping
//! history wherever it differed from the frame by more than the local noise, lost it at exactly
//! those edges (issue 37's static-camera shots).

use super::{reproject, Motion};
use crate::denoise::metrics::{display_inverse, display_value};
use crate::io::frame::Encoding;

use super::TemporalParams;

/// Radius of the box over which the local noise is estimated.
const NOISE_RADIUS: usize = 3;
/// Radius of the neighbourhood whose range bounds the history.
const CLIP_RADIUS: usize = 1;

/// One frame of a window as the blend needs it.
pub(super) struct WindowFrame<'a> {
    pub(super) noisy: &'a [f32],
    pub(super) denoised: &'a [f32],
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
    for f in &frames[1..] {
        let Some(motion) = f.motion else {
            history = f.denoised.to_vec();
            continue;
        };
        let warped = reproject(&history, width, height, motion, (1.0, 1.0));
        let n = width * height;
        let noise: Vec<f32> = (0..n)
            .map(|i| (0..3).map(|c| (disp(f.noisy[i * 3 + c]) - disp(f.denoised[i * 3 + c])).abs()).sum::<f32>() / 3.0)
            .collect();
        let noise = box_mean(&noise, width, height, NOISE_RADIUS);
        let shown: Vec<f32> = f.denoised.iter().map(|&v| disp(v)).collect();
        let (low, high) = neighbourhood_range(&shown, width, height, CLIP_RADIUS);
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
                params.history_weight * h + (1.0 - params.history_weight) * f.denoised[k]
            })
            .collect();
    }
    history
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
        // Noisy input far from the result: much noise, so a 0.02 flicker is well within the slack.
        let noisy = still(w, h, |x, y| if (x + y) % 2 == 0 { 0.0 } else { 1.0 });
        let (a, b) = (still(w, h, |_, _| 0.50), still(w, h, |_, _| 0.52));
        let frames = [
            WindowFrame { noisy: &noisy, denoised: &a, motion: None },
            WindowFrame { noisy: &noisy, denoised: &b, motion: Some(&motion) },
        ];
        let out = blend_window(&frames, w, h, Encoding::Srgb, &TemporalParams::default());
        assert!((out[0] - (0.8 * 0.50 + 0.2 * 0.52)).abs() < 1e-5, "{}", out[0]);
    }

    #[test]
    fn a_jittered_edge_keeps_its_history_and_a_change_does_not() {
        let (w, h) = (16, 8);
        let motion = static_motion(w, h);
        let params = TemporalParams::default();
        // A black/white edge at x = 8 whose anti-aliased pixel moves by one between frames: the
        // result is clean (noisy == denoised), so only the neighbourhood lets history through.
        let edge = |at: f32| still(w, h, move |x, _| (x as f32 + 0.5 - at).clamp(0.0, 1.0));
        let (before, after) = (edge(8.3), edge(7.7));
        let frames = [
            WindowFrame { noisy: &before, denoised: &before, motion: None },
            WindowFrame { noisy: &after, denoised: &after, motion: Some(&motion) },
        ];
        let out = blend_window(&frames, w, h, Encoding::Srgb, &params);
        let at = |x: usize| out[(3 * w + x) * 3];
        let blended = |x: usize| 0.8 * before[(3 * w + x) * 3] + 0.2 * after[(3 * w + x) * 3];
        for x in 7..=8 {
            assert!((at(x) - blended(x)).abs() < 1e-5, "edge pixel {x}: {} (history dropped)", at(x));
        }
        // A flat area that turned from 0.2 to 0.9 (a light moved in): history is clamped to what
        // the frame shows, so nothing of the old value trails.
        let (old, new) = (still(w, h, |_, _| 0.2), still(w, h, |_, _| 0.9));
        let frames = [
            WindowFrame { noisy: &old, denoised: &old, motion: None },
            WindowFrame { noisy: &new, denoised: &new, motion: Some(&motion) },
        ];
        let out = blend_window(&frames, w, h, Encoding::Srgb, &params);
        assert!(out.iter().all(|v| (v - 0.9).abs() <= 0.005 + 1e-6), "history trails: {}", out[0]);
    }

    #[test]
    fn hdr_history_is_clamped_in_display_units_and_comes_back_finite() {
        let (w, h) = (4, 4);
        let motion = static_motion(w, h);
        let (hot, cool) = (still(w, h, |_, _| 1e6), still(w, h, |_, _| 0.5));
        let frames = [
            WindowFrame { noisy: &hot, denoised: &hot, motion: None },
            WindowFrame { noisy: &cool, denoised: &cool, motion: Some(&motion) },
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
