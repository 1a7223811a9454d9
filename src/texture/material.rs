//! The material network: an sRGB colour map in; height, tangent-space normal and roughness out,
//! as the artists of the training data drew them (see `models/material/CARD.md`). It replaces the
//! luminance heuristic of [`super::pbr`] for `--pbr` and fills the maps an exemplar set lacks.
//!
//! The network pads circularly, so it sees the image as a torus: large images run in tiles cut
//! from that torus with `margin` pixels of context, at offsets that are multiples of the
//! network's stride, which gives what one whole-image run gives, in bounded memory.

use super::image::Texture;
use super::pbr::{gray, stretched, NormalConvention, NormalSettings, PbrMaps};
use super::TextureError;
use crate::infer::{self, Input, ModelStore, Runtime, SharedSession};
use crate::invalid::InvalidValue;
use crate::io::frame::Encoding;
use crate::io::transfer::linear_to_srgb;

pub const MATERIAL_MODEL: &str = "material";
/// Output pixels per side of one tile (without its context); a multiple of every stride.
const TILE: usize = 1024;

/// The `[material]` table of the material model's `model.toml`.
#[derive(Debug, Clone, serde::Deserialize, PartialEq)]
pub struct MaterialSpec {
    /// The network's input sides (and tile offsets) must be multiples of this: its total stride.
    pub multiple: usize,
    /// Pixels of context a tile needs on each side to match a whole-image run.
    pub margin: usize,
    /// The normal's slopes are multiplied by this (times the user's strength): the network's
    /// own are gentler than the artists' (see the model card).
    pub normal_gain: f32,
}

pub struct MaterialModel {
    spec: MaterialSpec,
    session: SharedSession,
}

/// The network's raw planes for a whole image: height (unscaled), normal x, y, z (green up) and
/// roughness, each `width * height`.
struct Planes {
    height: Vec<f32>,
    normal: [Vec<f32>; 3],
    roughness: Vec<f32>,
}

impl MaterialModel {
    pub fn load(runtime: &Runtime, store: &ModelStore) -> Result<Self, TextureError> {
        let entry = store.get(MATERIAL_MODEL)?;
        let spec: MaterialSpec = entry.task_table("material")?;
        let valid = spec.multiple != 0
            && TILE.is_multiple_of(spec.multiple)
            && spec.margin.is_multiple_of(spec.multiple)
            && spec.normal_gain.is_finite()
            && spec.normal_gain > 0.0;
        if !valid {
            return Err(entry
                .invalid("[material] needs multiple > 0 dividing 1024, margin and normal_gain > 0")
                .into());
        }
        let (session, _) = entry.open(runtime)?;
        Ok(MaterialModel { spec, session })
    }

    /// Height, normal and roughness of `colour` (sRGB or linear colour; any size). Strength 1 is
    /// the model's calibrated relief.
    pub fn maps(&self, colour: &Texture, normals: NormalSettings) -> Result<PbrMaps, TextureError> {
        self.maps_in_tiles(colour, normals, TILE)
    }

    /// [`Self::maps`] with runs of at most `tile` output pixels per side (a multiple of the
    /// network's stride): smaller tiles hold less in memory and give the same maps.
    pub fn maps_in_tiles(
        &self,
        colour: &Texture,
        normals: NormalSettings,
        tile: usize,
    ) -> Result<PbrMaps, TextureError> {
        if tile == 0 || !tile.is_multiple_of(self.spec.multiple) {
            let allowed = format!("a multiple of the network's stride {}", self.spec.multiple);
            return Err(InvalidValue::new("tile", tile, allowed).into());
        }
        let planes = self.planes(colour, tile)?;
        let gain = normals.strength() * self.spec.normal_gain;
        Ok(finish(planes, colour.width, colour.height, gain, normals.convention()))
    }

    fn planes(&self, colour: &Texture, tile: usize) -> Result<Planes, TextureError> {
        let (w, h) = (colour.width, colour.height);
        let srgb = |v: f32| match colour.encoding {
            Encoding::Linear => linear_to_srgb(v).clamp(0.0, 1.0),
            _ => v.clamp(0.0, 1.0),
        };
        let mut out = Planes {
            height: vec![0.0; w * h],
            normal: [vec![0.0; w * h], vec![0.0; w * h], vec![0.0; w * h]],
            roughness: vec![0.0; w * h],
        };
        let m = self.spec.multiple;
        let round_up = |v: usize| v.div_ceil(m) * m;
        // One run when the whole image is a valid input that fits a tile: no context needed.
        let whole = w.is_multiple_of(m) && h.is_multiple_of(m) && w <= tile && h <= tile;
        let margin = if whole { 0 } else { self.spec.margin };
        for y0 in (0..h).step_by(tile) {
            for x0 in (0..w).step_by(tile) {
                let (tw, th) = (round_up(tile.min(w - x0)), round_up(tile.min(h - y0)));
                let (iw, ih) = (tw + 2 * margin, th + 2 * margin);
                let mut input = vec![0.0f32; 3 * iw * ih];
                for iy in 0..ih {
                    for ix in 0..iw {
                        let x = x0 as isize + ix as isize - margin as isize;
                        let y = y0 as isize + iy as isize - margin as isize;
                        for c in 0..3 {
                            input[(c * ih + iy) * iw + ix] = srgb(colour.at(x, y, c));
                        }
                    }
                }
                let result = self.run(&input, iw, ih)?;
                let plane = |k: usize, ix: usize, iy: usize| result[(k * ih + iy) * iw + ix];
                for ty in 0..th.min(h - y0) {
                    for tx in 0..tw.min(w - x0) {
                        let (ix, iy) = (tx + margin, ty + margin);
                        let o = (y0 + ty) * w + x0 + tx;
                        out.height[o] = plane(0, ix, iy);
                        for (k, n) in out.normal.iter_mut().enumerate() {
                            n[o] = plane(1 + k, ix, iy);
                        }
                        out.roughness[o] = plane(4, ix, iy);
                    }
                }
            }
        }
        Ok(out)
    }

    /// One inference on planar RGB (3 x `h` x `w`); returns 5 planes: height, normal x/y/z,
    /// roughness.
    fn run(&self, input: &[f32], w: usize, h: usize) -> Result<Vec<f32>, TextureError> {
        let out = infer::run(&self.session, MATERIAL_MODEL, &[Input::new([1, 3, h, w], input)])?;
        let mut planes = Vec::with_capacity(5 * w * h);
        for (k, channels) in [(0, 1), (1, 3), (2, 1)] {
            planes.extend_from_slice(out.f32(k, &[1, channels, h as i64, w as i64])?);
        }
        Ok(planes)
    }
}

/// The maps as textures: height stretched to 0..1, the normal's slopes scaled by `strength` and
/// encoded in `convention`, roughness clamped.
fn finish(p: Planes, w: usize, h: usize, strength: f32, convention: NormalConvention) -> PbrMaps {
    let flip = if convention == NormalConvention::DirectX { -1.0 } else { 1.0 };
    let [nx, ny, nz] = p.normal;
    let rgb = (0..w * h)
        .flat_map(|i| {
            let (x, y, z) = (nx[i] * strength, ny[i] * strength * flip, nz[i].max(1e-4));
            let len = (x * x + y * y + z * z).sqrt();
            [x / len * 0.5 + 0.5, y / len * 0.5 + 0.5, z / len * 0.5 + 0.5]
        })
        .collect();
    let normal = Texture { width: w, height: h, rgb, encoding: Encoding::Data };
    PbrMaps {
        height: gray(stretched(&p.height), w, h),
        normal,
        roughness: gray(p.roughness.into_iter().map(|v| v.clamp(0.0, 1.0)).collect(), w, h),
    }
}

/// Whether a "colour" map is more likely a tangent-space normal map: bluish-violet on average
/// (blue well above red and green, which sit near one half) in nearly every pixel.
pub fn looks_like_normal_map(t: &Texture) -> bool {
    let n = (t.width * t.height).max(1) as f32;
    let (mut mean, mut blue_top) = ([0.0f32; 3], 0usize);
    for p in t.rgb.chunks_exact(3) {
        for c in 0..3 {
            mean[c] += p[c] / n;
        }
        blue_top += usize::from(p[2] > p[0] && p[2] > p[1] && p[2] > 0.6);
    }
    (mean[0] - 0.5).abs() < 0.12 && (mean[1] - 0.5).abs() < 0.12 && mean[2] > 0.7 && blue_top as f32 > 0.9 * n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(rgb: [f32; 3]) -> Texture {
        let mut t = Texture::new(16, 16, Encoding::Srgb);
        t.rgb.chunks_exact_mut(3).for_each(|p| p.copy_from_slice(&rgb));
        t
    }

    #[test]
    fn a_flat_normal_map_is_told_from_colour() {
        assert!(looks_like_normal_map(&filled([0.5, 0.5, 1.0])));
        assert!(!looks_like_normal_map(&filled([0.45, 0.42, 0.40])));
        assert!(!looks_like_normal_map(&filled([0.3, 0.4, 0.9])), "a blue colour is not a normal map");
    }

    #[test]
    fn finish_stretches_height_and_encodes_unit_normals() {
        let planes = Planes {
            height: vec![-2.0, 0.0, 2.0, 4.0],
            normal: [vec![0.6, 0.0, 0.0, 0.0], vec![0.0, 0.6, 0.0, 0.0], vec![0.8, 0.8, 1.0, 1.0]],
            roughness: vec![-0.5, 0.2, 0.7, 1.5],
        };
        let m = finish(planes, 2, 2, 1.0, NormalConvention::DirectX);
        let h: Vec<f32> = m.height.rgb.chunks(3).map(|p| p[0]).collect();
        assert_eq!(h, [0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0]);
        // DirectX flips green: the second pixel's +y becomes -y.
        assert!((m.normal.rgb[4] - (-0.6 * 0.5 + 0.5)).abs() < 1e-6);
        assert!((m.normal.rgb[0] - 0.8).abs() < 1e-6);
        let r: Vec<f32> = m.roughness.rgb.chunks(3).map(|p| p[0]).collect();
        assert_eq!(r, [0.0, 0.2, 0.7, 1.0]);
    }
}
