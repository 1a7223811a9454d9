//! What the network sees, exactly as Intel OIDN's RT filter prepares it (the imported networks
//! were trained on it): HDR colour times OIDN's auto-exposure through the PU transfer function,
//! LDR colour through the sRGB curve, albedo clamped to [0, 1], normals clamped to [-1, 1] and
//! mapped to [0, 1]; laid out as planes (C×H×W). And the way back to the frame's encoding.

use crate::io::frame::{Encoding, Frame};
use crate::io::transfer::{linear_to_srgb, srgb_to_linear};

/// Largest HDR value the PU curve is normalised to (half float's maximum, as in OIDN).
const HDR_MAX: f32 = 65504.0;

/// The transfer function named by a denoiser's `model.toml` (`transfer = "pu" | "srgb"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    /// HDR: OIDN's fit of the PU2 curve (Aydin et al. 2008), normalised so HDR_MAX maps to 1.
    Pu,
    /// LDR: the sRGB curve on colour clamped to [0, 1].
    Srgb,
}

impl Transfer {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "pu" => Some(Transfer::Pu),
            "srgb" => Some(Transfer::Srgb),
            _ => None,
        }
    }

    fn forward(self, v: f32) -> f32 {
        match self {
            Transfer::Pu => pu::forward(v.clamp(0.0, HDR_MAX)) * *pu::NORM,
            Transfer::Srgb => linear_to_srgb(v.clamp(0.0, 1.0)),
        }
    }

    fn inverse(self, t: f32) -> f32 {
        match self {
            Transfer::Pu => pu::inverse(t.max(0.0) / *pu::NORM).max(0.0),
            Transfer::Srgb => srgb_to_linear(t.clamp(0.0, 1.0)),
        }
    }
}

/// OIDN's PU curve constants (training/color.py, core/color.h).
mod pu {
    const A: f64 = 1.41283765e+03;
    const B: f64 = 1.64593172e+00;
    const C: f64 = 4.31384981e-01;
    const D: f64 = -2.94139609e-03;
    const E: f64 = 1.92653254e-01;
    const F: f64 = 6.26026094e-03;
    const G: f64 = 9.98620152e-01;
    const Y0: f64 = 1.57945760e-06;
    const Y1: f64 = 3.22087631e-02;
    const X0: f64 = 2.23151711e-03;
    const X1: f64 = 3.70974749e-01;

    pub fn forward(y: f32) -> f32 {
        let y = y as f64;
        (if y <= Y0 {
            A * y
        } else if y <= Y1 {
            B * y.powf(C) + D
        } else {
            E * (y + F).ln() + G
        }) as f32
    }

    pub fn inverse(x: f32) -> f32 {
        let x = x as f64;
        (if x <= X0 {
            x / A
        } else if x <= X1 {
            ((x - D) / B).powf(1.0 / C)
        } else {
            ((x - G) / E).exp() - F
        }) as f32
    }

    /// 1 / forward(65504), computed once: it scales every pixel.
    pub static NORM: std::sync::LazyLock<f32> = std::sync::LazyLock::new(|| 1.0 / forward(super::HDR_MAX));
}

/// The frame's colour as linear, non-negative radiance (NaN becomes 0).
pub(super) fn linear_color(frame: &Frame, encoding: Encoding) -> Vec<f32> {
    let clean = |v: f32| if v.is_nan() { 0.0 } else { v.max(0.0) };
    match encoding {
        Encoding::Linear | Encoding::Data => frame.color.iter().map(|&v| clean(v)).collect(),
        Encoding::Srgb => frame.color.iter().map(|&v| srgb_to_linear(clean(v).min(1.0))).collect(),
    }
}

/// Network output back to colour in `encoding`.
pub(super) fn from_transfer(t: f32, transfer: Transfer, scale: f32, encoding: Encoding) -> f32 {
    let v = transfer.inverse(t) / scale;
    match encoding {
        Encoding::Linear | Encoding::Data => v,
        Encoding::Srgb => linear_to_srgb(v).clamp(0.0, 1.0),
    }
}

/// OIDN's auto-exposure: ceil(H/16)×ceil(W/16) bins with integer-divided bounds, the mean
/// luminance of each, and the geometric mean over bins above 1e-8 mapped to 0.18; so the network
/// sees the same brightness whatever the render's absolute scale.
pub fn autoexposure(rgb: &[f32], width: usize, height: usize) -> f32 {
    const BIN: usize = 16;
    let (bins_h, bins_w) = (height.div_ceil(BIN), width.div_ceil(BIN));
    let (mut sum, mut count) = (0.0f64, 0usize);
    for i in 0..bins_h {
        let (y0, y1) = (i * height / bins_h, (i + 1) * height / bins_h);
        for j in 0..bins_w {
            let (x0, x1) = (j * width / bins_w, (j + 1) * width / bins_w);
            let mut l = 0.0f64;
            for y in y0..y1 {
                for p in rgb[(y * width + x0) * 3..(y * width + x1) * 3].chunks_exact(3) {
                    l += (0.212671 * p[0] + 0.715160 * p[1] + 0.072169 * p[2]) as f64;
                }
            }
            let l = l / ((y1 - y0) * (x1 - x0)) as f64;
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

/// Which passes go in after colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuxPasses {
    pub albedo: bool,
    pub normal: bool,
}

impl AuxPasses {
    pub fn channels(self) -> usize {
        3 * (1 + self.albedo as usize + self.normal as usize)
    }
}

/// The network input for the whole frame, planar (C×H×W), already transformed.
pub(super) struct Planes {
    pub channels: usize,
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Planes {
    pub fn build(frame: &Frame, linear: &[f32], transfer: Transfer, scale: f32, aux: AuxPasses) -> Self {
        let n = frame.pixels();
        let channels = aux.channels();
        let mut data = vec![0.0f32; channels * n];
        for i in 0..n {
            for c in 0..3 {
                data[c * n + i] = transfer.forward(linear[i * 3 + c] * scale);
            }
        }
        let clean = |v: f32| if v.is_nan() { 0.0 } else { v };
        let mut next = 3;
        if let (true, Some(albedo)) = (aux.albedo, &frame.albedo) {
            for i in 0..n {
                for c in 0..3 {
                    data[(next + c) * n + i] = clean(albedo[i * 3 + c]).clamp(0.0, 1.0);
                }
            }
            next += 3;
        }
        if let (true, Some(normal)) = (aux.normal, &frame.normal) {
            for i in 0..n {
                for c in 0..3 {
                    data[(next + c) * n + i] = clean(normal[i * 3 + c]).clamp(-1.0, 1.0) * 0.5 + 0.5;
                }
            }
        }
        Planes { channels, width: frame.width, height: frame.height, data }
    }

    /// Copies a region into a buffer whose size is padded up to `multiple`, repeating edge
    /// pixels, with `channels` planes: the prepared ones, then zeros.
    pub fn region(
        &self,
        x0: usize,
        y0: usize,
        x1: usize,
        y1: usize,
        multiple: usize,
        channels: usize,
    ) -> (usize, usize, Vec<f32>) {
        let pw = (x1 - x0).div_ceil(multiple) * multiple;
        let ph = (y1 - y0).div_ceil(multiple) * multiple;
        let n = self.width * self.height;
        let mut out = vec![0.0f32; channels.max(self.channels) * pw * ph];
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
        let rgb = vec![5.0f32; 40 * 24 * 3];
        let e = autoexposure(&rgb, 40, 24);
        assert!((e * 5.0 - 0.18).abs() < 1e-4);
        assert_eq!(autoexposure(&[0.0; 12], 2, 2), 1.0);
    }

    #[test]
    fn transfers_invert_and_match_oidn() {
        for t in [Transfer::Pu, Transfer::Srgb] {
            for v in [0.0, 1e-7, 0.001, 0.02, 0.18, 0.9] {
                let back = t.inverse(t.forward(v));
                assert!((back - v).abs() <= 1e-4 * v.max(1e-3), "{t:?} {v} -> {back}");
            }
        }
        // Values from OIDN's training/color.py: PU(65504) normalises to 1, PU(1) ≈ 0.3189.
        assert!((Transfer::Pu.forward(HDR_MAX) - 1.0).abs() < 1e-6);
        assert!((Transfer::Pu.forward(1.0) - 0.31891).abs() < 1e-4, "{}", Transfer::Pu.forward(1.0));
        assert!((Transfer::Srgb.forward(2.0) - 1.0).abs() < 1e-6, "LDR colour is clamped to 1");
    }

    #[test]
    fn normals_are_mapped_to_unit_range() {
        let mut frame = Frame::new_rgb(1, 1, vec![0.5; 3], Encoding::Linear, FileFormat::Exr);
        frame.albedo = Some(vec![2.0, 0.5, -1.0]);
        frame.normal = Some(vec![-1.0, 0.0, 3.0]);
        let aux = AuxPasses { albedo: true, normal: true };
        let p = Planes::build(&frame, &frame.color.clone(), Transfer::Pu, 1.0, aux);
        assert_eq!(&p.data[3..], &[1.0, 0.5, 0.0, 0.0, 0.5, 1.0]);
    }

    #[test]
    fn region_pads_by_repeating_edges() {
        let data: Vec<f32> = (0..18).map(|v| v as f32).collect();
        let planes = Planes { channels: 3, width: 3, height: 2, data };
        let (pw, ph, r) = planes.region(1, 0, 3, 2, 4, 4);
        assert_eq!((pw, ph, r.len()), (4, 4, 4 * 16));
        assert!(r[3 * 16..].iter().all(|&v| v == 0.0), "the padding channel is zeros");
        // channel 0, row 0: pixels x=1,2 then x=2 repeated
        assert_eq!(&r[0..4], &[1.0, 2.0, 2.0, 2.0]);
        // row 3 repeats row 1
        assert_eq!(&r[12..16], &[4.0, 5.0, 5.0, 5.0]);
    }
}
