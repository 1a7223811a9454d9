//! Tile-safe upscaling of texture maps by 2 or 4 (`latentforge upscale`, `texture --upscale`): the trained upscaler (see
//! `models/upscale/CARD.md`), or Lanczos and bicubic resampling as baselines. Every map of a set
//! is upscaled the same way: colour in sRGB, data maps (height, roughness, masks) as linear
//! values, normal maps renormalised afterwards; the output keeps the map's channels, bit depth
//! and file kind.
//!
//! Edges: a tileable texture is a torus, and its upscale must tile too ([`Edges::Wrap`]); any
//! other image is mirrored at its borders ([`Edges::Mirror`]). The network pads circularly, so
//! it runs in tiles cut from the (wrapped or mirrored) plane with `margin` pixels of context:
//! the same result as one whole-image run, in memory bounded by the tile, whatever the output
//! size (16384² at most).

use crate::infer::{self, InferenceError, Input, ModelError, ModelStore, Runtime, SharedSession};
use crate::invalid::InvalidValue;
use crate::io::frame::Encoding;
use crate::io::transfer::{linear_to_srgb, srgb_to_linear};
use crate::texture::map::{renormalise, Container, Map, MapKind, Samples};
use crate::texture::Texture;
use half::f16;

/// Why an upscale cannot be done.
#[derive(Debug, thiserror::Error)]
pub enum UpscaleError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Inference(#[from] InferenceError),
    #[error(transparent)]
    Invalid(#[from] InvalidValue),
    #[error(
        "{width}x{height} upscaled {factor}x would be {}x{}, over the {MAX_UPSCALED_SIDE} pixels per side an output \
         may have; use a smaller scale or split the image", width.saturating_mul(*factor), height.saturating_mul(*factor)
    )]
    TooLarge { width: usize, height: usize, factor: usize },
}

pub const UPSCALE_MODEL: &str = "upscale";
/// Largest side an upscaled map may have, in pixels.
pub const MAX_UPSCALED_SIDE: usize = 16384;
/// Input pixels per side of one network run (without its context): 1024² outputs at 4x.
const TILE: usize = 256;

/// The `[upscale]` table of the upscaler's `model.toml`.
#[derive(Debug, Clone, serde::Deserialize, PartialEq)]
pub struct UpscaleSpec {
    /// The network's own factor (2x is its output reduced by 2).
    pub scale: usize,
    /// Input pixels of context a tile needs on each side to match a whole-image run.
    pub margin: usize,
}

/// What lies beyond an image's edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edges {
    /// The opposite edge: a tileable texture stays tileable.
    Wrap,
    /// The image mirrored: for photos and other images that do not tile.
    Mirror,
}

impl Edges {
    /// Where coordinate `i` (any integer) of a side of `n` pixels reads.
    fn index(self, i: isize, n: usize) -> usize {
        let n = n as isize;
        match self {
            Edges::Wrap => i.rem_euclid(n) as usize,
            Edges::Mirror if n == 1 => 0,
            // Reflection without repeating the edge pixel (as numpy's "reflect"), period 2n - 2.
            Edges::Mirror => {
                let p = i.rem_euclid(2 * n - 2);
                (if p < n { p } else { 2 * n - 2 - p }) as usize
            }
        }
    }
}

/// How to upscale.
pub enum Method<'a> {
    Network(&'a UpscaleModel),
    /// Lanczos (a = 3), the usual image editor's choice.
    Lanczos,
    /// Bicubic (Catmull-Rom).
    Bicubic,
}

pub struct UpscaleModel {
    spec: UpscaleSpec,
    session: SharedSession,
}

impl UpscaleModel {
    pub fn load(runtime: &Runtime, store: &ModelStore) -> Result<Self, UpscaleError> {
        let entry = store.get(UPSCALE_MODEL)?;
        let spec: UpscaleSpec = entry.task_table("upscale")?;
        if spec.scale != 4 || spec.margin == 0 {
            return Err(entry.invalid("[upscale] needs scale = 4 and margin > 0").into());
        }
        let (session, _) = entry.open(runtime)?;
        Ok(UpscaleModel { spec, session })
    }

    /// One inference on planar RGB (3 x `h` x `w`); returns 3 x 4h x 4w.
    fn run(&self, input: &[f32], w: usize, h: usize) -> Result<Vec<f32>, UpscaleError> {
        let out = infer::run(&self.session, UPSCALE_MODEL, &[Input::new([1, 3, h, w], input)])?;
        let s = self.spec.scale;
        Ok(out.f32(0, &[1, 3, (h * s) as i64, (w * s) as i64])?.to_vec())
    }

    /// Upscales the `w` x `h` image whose 3 channels `at(x, y, c)` gives (in 0..1; x, y inside
    /// the image) by `factor` (2 or 4), in runs of `tile` input pixels per side with context
    /// from `edges`. Each finished output block goes to `put(x0, y0, bw, bh, planes)`: its
    /// top-left output pixel, size and 3 planes of `bw * bh` values.
    #[allow(clippy::too_many_arguments)]
    fn tiles(
        &self,
        (w, h): (usize, usize),
        factor: usize,
        edges: Edges,
        tile: usize,
        at: impl Fn(usize, usize, usize) -> f32,
        mut put: impl FnMut(usize, usize, usize, usize, &[f32]),
    ) -> Result<(), UpscaleError> {
        let s = self.spec.scale;
        let reduce = s / factor;
        // A wrapped image that fits one run needs no context: the network's own circular
        // padding is the torus. Otherwise every run gets `margin` pixels of context.
        let margin = if edges == Edges::Wrap && w <= tile && h <= tile { 0 } else { self.spec.margin };
        for y0 in (0..h).step_by(tile) {
            for x0 in (0..w).step_by(tile) {
                let (tw, th) = (tile.min(w - x0), tile.min(h - y0));
                let (iw, ih) = (tw + 2 * margin, th + 2 * margin);
                let mut input = vec![0.0f32; 3 * iw * ih];
                for iy in 0..ih {
                    let y = edges.index(y0 as isize + iy as isize - margin as isize, h);
                    for ix in 0..iw {
                        let x = edges.index(x0 as isize + ix as isize - margin as isize, w);
                        for c in 0..3 {
                            input[(c * ih + iy) * iw + ix] = at(x, y, c);
                        }
                    }
                }
                let out = self.run(&input, iw, ih)?;
                let (ow, oh) = (iw * s, ih * s);
                let (bw, bh) = (tw * factor, th * factor);
                let mut block = vec![0.0f32; 3 * bw * bh];
                let norm = 1.0 / (reduce * reduce) as f32;
                for c in 0..3 {
                    for by in 0..bh {
                        for bx in 0..bw {
                            let mut sum = 0.0;
                            for dy in 0..reduce {
                                let oy = margin * s + by * reduce + dy;
                                let row = &out[(c * oh + oy) * ow..][..ow];
                                for dx in 0..reduce {
                                    sum += row[margin * s + bx * reduce + dx];
                                }
                            }
                            block[(c * bh + by) * bw + bx] = sum * norm;
                        }
                    }
                }
                put(x0 * factor, y0 * factor, bw, bh, &block);
            }
        }
        Ok(())
    }
}

/// How a map's samples become the 0..1 values the upscaler works on, and back: sRGB colour
/// as stored (float colour, which is linear, made sRGB), data as its values; float maps
/// outside 0..1 (heights in metres, signed normals) stretched into 0..1 and back, linearly.
#[derive(Debug, Clone, Copy)]
struct Encode {
    srgb_from_linear: bool,
    low: f32,
    span: f32,
}

impl Encode {
    /// The encoding of a map read from a file: float colour is linear (EXR).
    fn of(map: &Map, kind: &MapKind) -> Encode {
        let float = matches!(map.samples, Samples::F16(_) | Samples::F32(_));
        Encode::new(map, float && kind.is_srgb())
    }

    fn new(map: &Map, srgb_from_linear: bool) -> Encode {
        let mut e = Encode { srgb_from_linear, low: 0.0, span: 1.0 };
        if matches!(map.samples, Samples::F16(_) | Samples::F32(_)) {
            let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
            for i in 0..map.pixels() * map.channels {
                let v = e.encode(map.value(i));
                if v.is_finite() {
                    (lo, hi) = (lo.min(v), hi.max(v));
                }
            }
            if lo < 0.0 || hi > 1.0 {
                (e.low, e.span) = (lo, (hi - lo).max(1e-12));
            }
        }
        e
    }

    fn encode(&self, v: f32) -> f32 {
        let v = if self.srgb_from_linear { linear_to_srgb(v.max(0.0)) } else { v };
        let v = (v - self.low) / self.span;
        if v.is_finite() {
            v
        } else {
            0.0
        }
    }

    fn decode(&self, v: f32) -> f32 {
        let v = v * self.span + self.low;
        if self.srgb_from_linear {
            srgb_to_linear(v.max(0.0))
        } else {
            v
        }
    }
}

/// The size of `width` x `height` upscaled by `factor`, or the error that says it is too big
/// (or that the factor is not 2 or 4).
pub fn upscaled_size(width: usize, height: usize, factor: usize) -> Result<(usize, usize), UpscaleError> {
    if !matches!(factor, 2 | 4) {
        return Err(InvalidValue::new("scale", factor, "2 or 4").into());
    }
    let (w, h) = (width.saturating_mul(factor), height.saturating_mul(factor));
    if w > MAX_UPSCALED_SIDE || h > MAX_UPSCALED_SIDE {
        return Err(UpscaleError::TooLarge { width, height, factor });
    }
    Ok((w, h))
}

impl Method<'_> {
    /// `map` (a map of `kind`) upscaled by `factor` (2 or 4): same channels, sample type and
    /// container; normal maps renormalised.
    pub fn map(&self, map: &Map, kind: &MapKind, factor: usize, edges: Edges) -> Result<Map, UpscaleError> {
        self.map_in_tiles(map, kind, factor, edges, TILE)
    }

    /// [`Self::map`] in network runs of at most `tile` input pixels per side: smaller tiles hold
    /// less in memory and give the same map.
    pub fn map_in_tiles(
        &self,
        map: &Map,
        kind: &MapKind,
        factor: usize,
        edges: Edges,
        tile: usize,
    ) -> Result<Map, UpscaleError> {
        self.upscale(map, kind, factor, edges, tile, Encode::of(map, kind))
    }

    fn upscale(
        &self,
        map: &Map,
        kind: &MapKind,
        factor: usize,
        edges: Edges,
        tile: usize,
        enc: Encode,
    ) -> Result<Map, UpscaleError> {
        let (ow, oh) = upscaled_size(map.width, map.height, factor)?;
        if tile == 0 {
            return Err(InvalidValue::new("tile", tile, "1 pixel or more").into());
        }
        let ch = map.channels;
        let mut out = Map { width: ow, height: oh, samples: empty_like(&map.samples, ow * oh * ch), ..map.clone() };
        // Channels in groups of three (the network's RGB); grey and alpha run alone, repeated.
        let groups: Vec<Vec<usize>> = match ch {
            1 => vec![vec![0]],
            2 => vec![vec![0], vec![1]],
            3 => vec![vec![0, 1, 2]],
            _ => vec![vec![0, 1, 2], vec![3]],
        };
        for group in groups {
            let pick = |c: usize| group[c.min(group.len() - 1)];
            let at = |x: usize, y: usize, c: usize| enc.encode(map.value((y * map.width + x) * ch + pick(c)));
            let mut put = |x0: usize, y0: usize, bw: usize, bh: usize, planes: &[f32]| {
                for by in 0..bh {
                    for bx in 0..bw {
                        let i = (y0 + by) * ow + x0 + bx;
                        let plane = |c: usize| planes[(c * bh + by) * bw + bx];
                        if group.len() == 1 {
                            let grey = (plane(0) + plane(1) + plane(2)) / 3.0;
                            store(&mut out.samples, i * ch + group[0], enc.decode(grey));
                        } else {
                            for (c, &dst) in group.iter().enumerate() {
                                store(&mut out.samples, i * ch + dst, enc.decode(plane(c)));
                            }
                        }
                    }
                }
            };
            match self {
                Method::Network(model) => model.tiles((map.width, map.height), factor, edges, tile, at, put)?,
                Method::Lanczos | Method::Bicubic => {
                    let planes = self.resample((map.width, map.height), factor, edges, &at);
                    put(0, 0, ow, oh, &planes);
                }
            }
        }
        if let MapKind::Normal(_) = kind {
            renormalise(&mut out);
        }
        Ok(out)
    }

    /// A texture (sRGB colour or data in 0..1, as the generator writes them) upscaled like a
    /// map of `kind`.
    pub fn texture(&self, t: &Texture, kind: &MapKind, factor: usize, edges: Edges) -> Result<Texture, UpscaleError> {
        let map = Map {
            width: t.width,
            height: t.height,
            channels: 3,
            samples: Samples::F32(t.rgb.clone()),
            container: Container::Png,
            exr_names: Vec::new(),
        };
        // An sRGB texture's values are already what the upscaler works on; a linear one's are not.
        let enc = Encode::new(&map, t.encoding == Encoding::Linear && kind.is_srgb());
        let up = self.upscale(&map, kind, factor, edges, TILE, enc)?;
        let Samples::F32(rgb) = up.samples else { unreachable!("F32 in, F32 out") };
        let rgb = if t.encoding == Encoding::Data || kind.is_srgb() {
            rgb.into_iter().map(|v| v.clamp(0.0, 1.0)).collect()
        } else {
            rgb
        };
        Ok(Texture { width: up.width, height: up.height, rgb, encoding: t.encoding })
    }

    /// Lanczos or bicubic over the whole image, padded by `edges` so the borders are resampled
    /// like the inside: 3 planes of the upscaled image.
    fn resample(
        &self,
        (w, h): (usize, usize),
        factor: usize,
        edges: Edges,
        at: &impl Fn(usize, usize, usize) -> f32,
    ) -> Vec<f32> {
        use image::imageops::{resize, FilterType};
        const PAD: usize = 4; // both filters reach at most 3 input pixels
        let filter = if matches!(self, Method::Lanczos) { FilterType::Lanczos3 } else { FilterType::CatmullRom };
        let (pw, ph) = (w + 2 * PAD, h + 2 * PAD);
        let mut padded = image::Rgb32FImage::new(pw as u32, ph as u32);
        for (x, y, p) in padded.enumerate_pixels_mut() {
            let sx = edges.index(x as isize - PAD as isize, w);
            let sy = edges.index(y as isize - PAD as isize, h);
            p.0 = [at(sx, sy, 0), at(sx, sy, 1), at(sx, sy, 2)];
        }
        let big = resize(&padded, (pw * factor) as u32, (ph * factor) as u32, filter);
        let (ow, oh) = (w * factor, h * factor);
        let mut planes = vec![0.0f32; 3 * ow * oh];
        for y in 0..oh {
            for x in 0..ow {
                let p = big.get_pixel((x + PAD * factor) as u32, (y + PAD * factor) as u32).0;
                for c in 0..3 {
                    planes[(c * oh + y) * ow + x] = p[c];
                }
            }
        }
        planes
    }
}

fn empty_like(s: &Samples, n: usize) -> Samples {
    match s {
        Samples::U8(_) => Samples::U8(vec![0; n]),
        Samples::U16(_) => Samples::U16(vec![0; n]),
        Samples::F16(_) => Samples::F16(vec![f16::ZERO; n]),
        Samples::F32(_) => Samples::F32(vec![0.0; n]),
    }
}

/// Stores `v` as sample `i`: integers clamped to their range and rounded, floats as they are.
fn store(s: &mut Samples, i: usize, v: f32) {
    match s {
        Samples::U8(d) => d[i] = (v.clamp(0.0, 1.0) * 255.0).round() as u8,
        Samples::U16(d) => d[i] = (v.clamp(0.0, 1.0) * 65535.0).round() as u16,
        Samples::F16(d) => d[i] = f16::from_f32(v),
        Samples::F32(d) => d[i] = v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey_map(w: usize, h: usize, f: impl Fn(usize, usize) -> f32) -> Map {
        let v = (0..w * h).map(|i| f(i % w, i / w)).collect();
        Map { width: w, height: h, channels: 1, samples: Samples::F32(v), container: Container::Exr, exr_names: vec![] }
    }

    #[test]
    fn mirror_and_wrap_indices() {
        let m: Vec<usize> = (-3..7).map(|i| Edges::Mirror.index(i, 4)).collect();
        assert_eq!(m, [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]);
        let w: Vec<usize> = (-3..7).map(|i| Edges::Wrap.index(i, 4)).collect();
        assert_eq!(w, [1, 2, 3, 0, 1, 2, 3, 0, 1, 2]);
    }

    #[test]
    fn outputs_over_16384_are_refused_before_any_work() {
        assert!(upscaled_size(4096, 4096, 4).is_ok());
        let e = upscaled_size(4097, 100, 4).unwrap_err().to_string();
        assert!(e.contains("16388x400") && e.contains("16384"), "{e}");
        assert!(upscaled_size(usize::MAX, 1, 4).is_err());
        assert!(upscaled_size(64, 64, 3).is_err());
    }

    #[test]
    fn lanczos_keeps_heights_outside_0_1_linear_and_wraps() {
        // A ramp in metres around the torus: its upscale has the same range and mean, and the
        // wrapped Lanczos has no seam (its last and first columns are as close as neighbours).
        let map = grey_map(32, 8, |x, _| -2.0 + 3.0 * (std::f32::consts::TAU * x as f32 / 32.0).sin());
        let up = Method::Lanczos.map(&map, &MapKind::Height, 4, Edges::Wrap).unwrap();
        assert_eq!((up.width, up.height, up.channels), (128, 32, 1));
        let vals: Vec<f32> = (0..128).map(|x| up.value(x)).collect();
        let mean = vals.iter().sum::<f32>() / 128.0;
        assert!((mean + 2.0).abs() < 0.01, "{mean}");
        let max_step = vals.windows(2).map(|p| (p[1] - p[0]).abs()).fold(0.0f32, f32::max);
        assert!((vals[127] - vals[0]).abs() <= max_step * 1.01, "seam {} vs {max_step}", vals[127] - vals[0]);
    }

    #[test]
    fn normal_maps_come_back_unit_length() {
        let v: Vec<u8> = (0..16 * 16).flat_map(|i| [(i * 7 % 256) as u8, (i * 3 % 256) as u8, 200]).collect();
        let map = Map {
            width: 16,
            height: 16,
            channels: 3,
            samples: Samples::U8(v),
            container: Container::Png,
            exr_names: vec![],
        };
        let up = Method::Bicubic
            .map(&map, &MapKind::Normal(crate::texture::NormalConvention::OpenGl), 2, Edges::Mirror)
            .unwrap();
        for p in 0..up.pixels() {
            let n: Vec<f32> = (0..3).map(|c| up.value(p * 3 + c) * 2.0 - 1.0).collect();
            let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
            assert!((len - 1.0).abs() < 0.02, "{len}");
        }
    }
}
