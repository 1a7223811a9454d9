//! What the network sees: auto-exposure, the log1p transfer of HDR colour, clamped albedo and
//! normal, laid out as planes (C×H×W), and the way back to the frame's encoding.

use crate::io::frame::{Encoding, Frame};
use crate::io::transfer::{linear_to_srgb, srgb_to_linear};

/// The frame's colour as linear, non-negative radiance.
pub(super) fn linear_color(frame: &Frame, encoding: Encoding) -> Vec<f32> {
    match encoding {
        Encoding::Linear | Encoding::Data => frame.color.iter().map(|v| v.max(0.0)).collect(),
        Encoding::Srgb => frame.color.iter().map(|&v| srgb_to_linear(v.clamp(0.0, 1.0))).collect(),
    }
}

/// Network output (transfer domain) back to colour in `encoding`.
pub(super) fn from_transfer(t: f32, exposure: f32, encoding: Encoding) -> f32 {
    let v = (t.exp() - 1.0).max(0.0) / exposure;
    match encoding {
        Encoding::Linear | Encoding::Data => v,
        Encoding::Srgb => linear_to_srgb(v).clamp(0.0, 1.0),
    }
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
pub(super) struct Planes {
    pub channels: usize,
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Planes {
    pub fn build(frame: &Frame, linear: &[f32], exposure: f32, with_aux: bool) -> Self {
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
    pub fn region(&self, x0: usize, y0: usize, x1: usize, y1: usize, multiple: usize) -> (usize, usize, Vec<f32>) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::frame::FileFormat;

    #[test]
    fn autoexposure_maps_mid_grey() {
        let rgb = vec![5.0f32; 32 * 32 * 3];
        let e = autoexposure(&rgb, 32, 32);
        assert!((e * 5.0 - 0.18).abs() < 1e-4);
        assert_eq!(autoexposure(&[0.0; 12], 2, 2), 1.0);
    }

    #[test]
    fn region_pads_by_repeating_edges() {
        let frame = Frame::new_rgb(3, 2, (0..18).map(|v| v as f32).collect(), Encoding::Linear, FileFormat::Exr);
        let planes = Planes {
            channels: 3,
            width: 3,
            height: 2,
            data: {
                let mut d = vec![0.0; 18];
                for i in 0..6 {
                    for c in 0..3 {
                        d[c * 6 + i] = frame.color[i * 3 + c];
                    }
                }
                d
            },
        };
        let (pw, ph, r) = planes.region(1, 0, 3, 2, 4);
        assert_eq!((pw, ph), (4, 4));
        // channel 0, row 0: pixels x=1,2 then x=2 repeated
        assert_eq!(&r[0..4], &[3.0, 6.0, 6.0, 6.0]);
        // row 3 repeats row 1
        assert_eq!(&r[12..16], &[12.0, 15.0, 15.0, 15.0]);
    }
}
