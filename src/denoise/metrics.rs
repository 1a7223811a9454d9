//! How close a frame is to a reference, the way `oidnDenoise -r` reports it: PSNR and SSIM.
//! Both are computed on display values, so that HDR frames are judged as an artist sees them:
//! linear radiance goes through a fixed Reinhard tone map x/(1+x) and the sRGB curve; LDR
//! frames are compared as stored (sRGB, 0..1).

use crate::io::frame::Encoding;
use crate::io::transfer::{linear_to_srgb, srgb_to_linear};

/// PSNR (dB, peak 1) and mean SSIM of a frame against a reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub psnr: f64,
    pub ssim: f64,
}

/// Compares two interleaved RGB frames of `width`×`height` in `encoding`.
pub fn compare(frame: &[f32], reference: &[f32], width: usize, height: usize, encoding: Encoding) -> Scores {
    assert_eq!(frame.len(), reference.len(), "frames of different sizes");
    assert_eq!(frame.len(), width * height * 3);
    let a = display(frame, encoding);
    let b = display(reference, encoding);
    let mse = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>() / a.len() as f64;
    let psnr = if mse <= 1e-20 { 200.0 } else { 10.0 * (1.0 / mse).log10() };
    let ssim = (0..3).map(|c| ssim_plane(&plane(&a, c), &plane(&b, c), width, height)).sum::<f64>() / 3.0;
    Scores { psnr, ssim }
}

fn display(v: &[f32], encoding: Encoding) -> Vec<f64> {
    v.iter().map(|&x| display_value(x, encoding) as f64).collect()
}

/// One value as an artist sees it: linear radiance through Reinhard and the sRGB curve, LDR
/// values as stored (clamped to 0..1); NaN counts as black.
pub fn display_value(x: f32, encoding: Encoding) -> f32 {
    let clean = if x.is_nan() { 0.0 } else { x.max(0.0) };
    match encoding {
        Encoding::Srgb => clean.min(1.0),
        Encoding::Linear | Encoding::Data => linear_to_srgb(clean / (1.0 + clean)),
    }
}

/// The value [`display_value`] maps to `y` (0..1): where the temporal blend clips history in
/// display units, it goes back to the frame's own units. Display values of 1 and above map to
/// the largest finite radiance Reinhard reaches in f32.
pub fn display_inverse(y: f32, encoding: Encoding) -> f32 {
    let y = y.clamp(0.0, 1.0);
    match encoding {
        Encoding::Srgb => y,
        Encoding::Linear | Encoding::Data => {
            let r = srgb_to_linear(y).min(1.0 - f32::EPSILON);
            r / (1.0 - r)
        }
    }
}

fn plane(v: &[f64], c: usize) -> Vec<f64> {
    v.iter().skip(c).step_by(3).copied().collect()
}

/// SSIM (Wang et al. 2004): 11×11 Gaussian window, σ 1.5, K1 0.01, K2 0.03, peak 1; the
/// window is clamped at the borders.
fn ssim_plane(x: &[f64], y: &[f64], w: usize, h: usize) -> f64 {
    const C1: f64 = 0.01 * 0.01;
    const C2: f64 = 0.03 * 0.03;
    let blur = |f: &dyn Fn(usize) -> f64| gaussian(&(0..w * h).map(f).collect::<Vec<_>>(), w, h);
    let (mx, my) = (blur(&|i| x[i]), blur(&|i| y[i]));
    let (sxx, syy, sxy) = (blur(&|i| x[i] * x[i]), blur(&|i| y[i] * y[i]), blur(&|i| x[i] * y[i]));
    let total: f64 = (0..w * h)
        .map(|i| {
            let (vx, vy, cxy) = (sxx[i] - mx[i] * mx[i], syy[i] - my[i] * my[i], sxy[i] - mx[i] * my[i]);
            ((2.0 * mx[i] * my[i] + C1) * (2.0 * cxy + C2)) / ((mx[i] * mx[i] + my[i] * my[i] + C1) * (vx + vy + C2))
        })
        .sum();
    total / (w * h) as f64
}

/// Separable Gaussian blur (σ 1.5, radius 5), normalised over the taps inside the image.
fn gaussian(v: &[f64], w: usize, h: usize) -> Vec<f64> {
    const R: isize = 5;
    let taps: Vec<f64> = (-R..=R).map(|k| (-(k * k) as f64 / (2.0 * 1.5 * 1.5)).exp()).collect();
    let pass = |src: &[f64], horizontal: bool| -> Vec<f64> {
        let mut out = vec![0.0; w * h];
        for y in 0..h {
            for x in 0..w {
                let (mut s, mut n) = (0.0, 0.0);
                for (t, k) in taps.iter().zip(-R..=R) {
                    let (sx, sy) = if horizontal { (x as isize + k, y as isize) } else { (x as isize, y as isize + k) };
                    if sx >= 0 && sy >= 0 && (sx as usize) < w && (sy as usize) < h {
                        s += t * src[sy as usize * w + sx as usize];
                        n += t;
                    }
                }
                out[y * w + x] = s / n;
            }
        }
        out
    };
    pass(&pass(v, true), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_frames_score_perfectly() {
        let f: Vec<f32> = (0..16 * 8 * 3).map(|i| (i % 7) as f32 * 0.1).collect();
        let s = compare(&f, &f, 16, 8, Encoding::Linear);
        assert_eq!(s.psnr, 200.0);
        assert!((s.ssim - 1.0).abs() < 1e-9);
    }

    #[test]
    fn noise_lowers_both_scores() {
        let clean: Vec<f32> = (0..32 * 32 * 3).map(|i| 0.5 + 0.2 * ((i / 3 % 32) as f32 / 32.0)).collect();
        let noisy: Vec<f32> =
            clean.iter().enumerate().map(|(i, v)| v + if i % 2 == 0 { 0.05 } else { -0.05 }).collect();
        let s = compare(&noisy, &clean, 32, 32, Encoding::Srgb);
        // A ±0.05 error everywhere is exactly 26.0 dB.
        assert!((s.psnr - 26.02).abs() < 0.01, "{}", s.psnr);
        assert!(s.ssim < 0.9, "{}", s.ssim);
    }
}
