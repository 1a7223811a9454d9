//! PBR maps derived from an albedo texture: height (blurred luminance), a tangent-space normal
//! map from the height's slopes, and roughness (rougher where the surface is dark and busy).
//! Every filter wraps around the edges, so the maps tile exactly like the albedo.

use super::image::Texture;
use crate::invalid::{positive, InvalidValue};
use crate::io::frame::Encoding;

/// Which way the green channel of a normal map points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NormalConvention {
    /// Y up (Blender, Unity, glTF).
    OpenGl,
    /// Y down (Unreal, many DirectX engines): green is flipped.
    DirectX,
}

/// How normal maps are made: the scale of their slopes and their green channel's convention;
/// checked when built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NormalSettings {
    strength: f32,
    convention: NormalConvention,
}

impl NormalSettings {
    /// `strength` scales the slopes (above 0; 1 = as made).
    pub fn new(strength: f32, convention: NormalConvention) -> Result<NormalSettings, InvalidValue> {
        Ok(NormalSettings { strength: positive("normal_strength", strength)?, convention })
    }

    pub fn strength(&self) -> f32 {
        self.strength
    }

    pub fn convention(&self) -> NormalConvention {
        self.convention
    }
}

impl Default for NormalSettings {
    /// Strength 1, OpenGL (Y up).
    fn default() -> Self {
        NormalSettings { strength: 1.0, convention: NormalConvention::OpenGl }
    }
}

pub struct PbrMaps {
    pub height: Texture,
    pub normal: Texture,
    pub roughness: Texture,
}

/// Box blur with wrap-around, `radius` pixels, on one plane.
fn blur(plane: &[f32], w: usize, h: usize, radius: usize) -> Vec<f32> {
    let r = radius as isize;
    let n = (2 * r + 1) as f32;
    let mut tmp = vec![0.0; plane.len()];
    for y in 0..h {
        for x in 0..w {
            tmp[y * w + x] =
                (-r..=r).map(|d| plane[y * w + (x as isize + d).rem_euclid(w as isize) as usize]).sum::<f32>() / n;
        }
    }
    let mut out = vec![0.0; plane.len()];
    for y in 0..h {
        for x in 0..w {
            out[y * w + x] =
                (-r..=r).map(|d| tmp[(y as isize + d).rem_euclid(h as isize) as usize * w + x]).sum::<f32>() / n;
        }
    }
    out
}

/// A data plane as a gray texture (the same value in R, G and B).
pub(super) fn gray(plane: Vec<f32>, w: usize, h: usize) -> Texture {
    Texture { width: w, height: h, rgb: plane.iter().flat_map(|&v| [v, v, v]).collect(), encoding: Encoding::Data }
}

/// A plane stretched to 0..1 (its lowest value to 0, its highest to 1): heights have no scale.
pub(super) fn stretched(plane: &[f32]) -> Vec<f32> {
    let (lo, hi) = plane.iter().fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    plane.iter().map(|v| (v - lo) / (hi - lo).max(1e-6)).collect()
}

/// The maps of `albedo`. Strength 1 gives the normal map the slopes of a height range of about a
/// tenth of the texture's width.
pub fn derive(albedo: &Texture, normals: NormalSettings) -> PbrMaps {
    let (strength, convention) = (normals.strength(), normals.convention());
    let (w, h) = (albedo.width, albedo.height);
    let lum = albedo.luminance();
    // Height: luminance smoothed over a couple of pixels, stretched to 0..1.
    let height = stretched(&blur(&lum, w, h, 1));
    // Normal: central differences of the height, wrapping around.
    let k = strength * w as f32 / 10.0 / 2.0;
    let at = |x: isize, y: isize| height[y.rem_euclid(h as isize) as usize * w + x.rem_euclid(w as isize) as usize];
    let flip = if convention == NormalConvention::DirectX { -1.0 } else { 1.0 };
    let mut normal = Texture::new(w, h, Encoding::Data);
    for y in 0..h as isize {
        for x in 0..w as isize {
            let dx = (at(x + 1, y) - at(x - 1, y)) * k;
            // Image rows run down; OpenGL's tangent-space Y runs up.
            let dy = (at(x, y - 1) - at(x, y + 1)) * k;
            let len = (dx * dx + dy * dy + 1.0).sqrt();
            let n = [-dx / len, flip * -dy / len, 1.0 / len];
            let o = (y as usize * w + x as usize) * 3;
            for (dst, v) in normal.rgb[o..o + 3].iter_mut().zip(n) {
                *dst = v * 0.5 + 0.5;
            }
        }
    }
    // Roughness: high where the albedo is dark or has local detail, within 0.35..0.95.
    let mean = blur(&lum, w, h, 3);
    let detail: Vec<f32> = lum.iter().zip(&mean).map(|(v, m)| (v - m).abs()).collect();
    let detail = blur(&detail, w, h, 2);
    let dmax = detail.iter().cloned().fold(1e-6, f32::max);
    let rough: Vec<f32> = lum
        .iter()
        .zip(&detail)
        .map(|(v, d)| (0.35 + 0.4 * (1.0 - v.clamp(0.0, 1.0)) + 0.2 * d / dmax).clamp(0.0, 1.0))
        .collect();
    PbrMaps { height: gray(height, w, h), normal, roughness: gray(rough, w, h) }
}

#[cfg(test)]
mod tests {
    use super::super::image::seam_score;
    use super::*;

    fn bumps(w: usize, h: usize) -> Texture {
        let mut t = Texture::new(w, h, Encoding::Srgb);
        for y in 0..h {
            for x in 0..w {
                let v = 0.5
                    + 0.3 * (std::f32::consts::TAU * 3.0 * x as f32 / w as f32).sin()
                    + 0.1 * (std::f32::consts::TAU * 2.0 * y as f32 / h as f32).cos();
                t.rgb[(y * w + x) * 3..][..3].copy_from_slice(&[v, v, v]);
            }
        }
        t
    }

    #[test]
    fn flat_albedo_gives_a_flat_normal_map() {
        let mut t = Texture::new(8, 8, Encoding::Srgb);
        t.rgb.fill(0.4);
        let m = derive(&t, NormalSettings::new(1.0, NormalConvention::OpenGl).unwrap());
        assert!(m.normal.rgb.chunks(3).all(|n| (n[0] - 0.5).abs() < 1e-6 && (n[1] - 0.5).abs() < 1e-6 && n[2] == 1.0));
        assert_eq!(m.normal.encoding, Encoding::Data);
    }

    #[test]
    fn directx_flips_green_only_and_maps_tile() {
        let t = bumps(64, 32);
        let gl = derive(&t, NormalSettings::new(2.0, NormalConvention::OpenGl).unwrap());
        let dx = derive(&t, NormalSettings::new(2.0, NormalConvention::DirectX).unwrap());
        for (a, b) in gl.normal.rgb.chunks(3).zip(dx.normal.rgb.chunks(3)) {
            assert!((a[0] - b[0]).abs() < 1e-6 && (a[1] - (1.0 - b[1])).abs() < 1e-6 && (a[2] - b[2]).abs() < 1e-6);
        }
        for map in [&gl.height, &gl.normal, &gl.roughness] {
            assert!(seam_score(map) < 1.1, "{}", seam_score(map));
        }
    }
}
