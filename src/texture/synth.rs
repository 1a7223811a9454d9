//! From knobs to a texture: seeded latents (the same seed gives the same texture on every
//! machine), style mixing, latent walks, truncation, and synthesis in tiles of latent cells with
//! wrap-around context, so a 4096x4096 texture needs the memory of one tile, not of the whole.

use super::image::Texture;
use super::model::{Inputs, TextureModel};
use super::{check_size, TextureError};
use crate::infer::latent;
use crate::invalid::{within, InvalidValue};
use crate::io::frame::Encoding;

/// Latent cells per side of one synthesis tile (plus the model's margin on each side).
const TILE_CELLS: usize = 32;

/// Everything random about a texture: the spatial latent grid, the two style latents and the
/// per-pixel noise, for a grid of `rows` x `cols` cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Style {
    pub rows: usize,
    pub cols: usize,
    pub latent: Vec<f32>,
    pub z_coarse: Vec<f32>,
    pub z_fine: Vec<f32>,
    pub noise: Vec<f32>,
}

impl Style {
    /// The style of `seed` on a grid of `rows` x `cols` cells.
    pub fn seeded(model: &TextureModel, seed: u64, rows: usize, cols: usize) -> Style {
        let s = model.spec();
        let z = latent::normals(seed, 2, s.style);
        Style {
            rows,
            cols,
            latent: latent::normals(seed, 1, s.latent_channels * rows * cols),
            z_fine: z.clone(),
            z_coarse: z,
            noise: latent::normals(seed, 3, rows * cols * s.scale * s.scale),
        }
    }

    /// Coarse structure from this style, fine detail (the fine layers' style) from `other`.
    pub fn mixed(mut self, other: &Style) -> Style {
        self.z_fine = other.z_fine.clone();
        self
    }

    /// The point `t` (0..1) along the great-circle arc from `self` to `other`: a walk that stays
    /// where the prior has its mass.
    pub fn towards(&self, other: &Style, t: f32) -> Style {
        let arc = |a: &[f32], b: &[f32]| latent::arc(a, b, t);
        Style {
            rows: self.rows,
            cols: self.cols,
            latent: arc(&self.latent, &other.latent),
            z_coarse: arc(&self.z_coarse, &other.z_coarse),
            z_fine: arc(&self.z_fine, &other.z_fine),
            noise: arc(&self.noise, &other.noise),
        }
    }
}

/// One texture to make, checked when built ([`TextureRequest::new`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TextureRequest {
    class: usize,
    width: usize,
    height: usize,
    truncation: f32,
}

impl TextureRequest {
    /// Material `class` (from [`TextureModel::class`]) at `width` x `height` pixels
    /// ([`MIN_SIZE`]..=[`MAX_SIZE`] per side); `truncation` 0..=1: 0 = the class's average style,
    /// 1 = as varied as the training data.
    pub fn new(class: usize, width: usize, height: usize, truncation: f32) -> Result<Self, InvalidValue> {
        check_size(width, height)?;
        within("truncation", truncation, 0.0, 1.0)?;
        Ok(TextureRequest { class, width, height, truncation })
    }

    /// The same request at another size, checked like the first.
    pub fn with_size(&self, width: usize, height: usize) -> Result<Self, InvalidValue> {
        TextureRequest::new(self.class, width, height, self.truncation)
    }

    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    pub fn class(&self) -> usize {
        self.class
    }

    /// The latent grid (rows, cols) that covers the requested size.
    pub fn grid(&self, model: &TextureModel) -> (usize, usize) {
        let s = model.spec().scale;
        (self.height.div_ceil(s), self.width.div_ceil(s))
    }
}

/// Synthesises `style` as `request` asks: in tiles of TILE_CELLS cells with the model's margin
/// of wrap-around context (a grid that fits one tile runs whole, the network's own circular
/// padding closing the wrap), then resampled with wrap-around to the exact size when that is not
/// a whole number of cells.
pub fn synthesize(model: &TextureModel, style: &Style, request: &TextureRequest) -> Result<Texture, TextureError> {
    let (rows, cols) = (style.rows, style.cols);
    let s = model.spec();
    let (h, w) = (rows * s.scale, cols * s.scale);
    let mut out = Texture::new(w, h, Encoding::Srgb);
    let whole = rows <= TILE_CELLS && cols <= TILE_CELLS;
    let margin = if whole { 0 } else { s.margin };
    for r0 in (0..rows).step_by(if whole { rows } else { TILE_CELLS }) {
        for c0 in (0..cols).step_by(if whole { cols } else { TILE_CELLS }) {
            let (tr, tc) = if whole { (rows, cols) } else { (TILE_CELLS.min(rows - r0), TILE_CELLS.min(cols - c0)) };
            let (ir, ic) = (tr + 2 * margin, tc + 2 * margin);
            // The tile's inputs, read with wrap-around from the whole grid.
            let wrap = |v: isize, n: usize| v.rem_euclid(n as isize) as usize;
            let mut lat = vec![0.0f32; s.latent_channels * ir * ic];
            for ch in 0..s.latent_channels {
                for y in 0..ir {
                    let sy = wrap(r0 as isize + y as isize - margin as isize, rows);
                    for x in 0..ic {
                        let sx = wrap(c0 as isize + x as isize - margin as isize, cols);
                        lat[(ch * ir + y) * ic + x] = style.latent[(ch * rows + sy) * cols + sx];
                    }
                }
            }
            let (nh, nw, pm) = (ir * s.scale, ic * s.scale, margin * s.scale);
            let mut noise = vec![0.0f32; nh * nw];
            for y in 0..nh {
                let sy = wrap((r0 * s.scale + y) as isize - pm as isize, h);
                for x in 0..nw {
                    let sx = wrap((c0 * s.scale + x) as isize - pm as isize, w);
                    noise[y * nw + x] = style.noise[sy * w + sx];
                }
            }
            let planes = model.run(&Inputs {
                latent: &lat,
                rows: ir,
                cols: ic,
                z_coarse: &style.z_coarse,
                z_fine: &style.z_fine,
                class: request.class,
                truncation: request.truncation,
                noise: &noise,
            })?;
            // The tile's core, from -1..1 to 0..1.
            let plane = nh * nw;
            for y in 0..tr * s.scale {
                for x in 0..tc * s.scale {
                    let at = (y + pm) * nw + x + pm;
                    let o = ((r0 * s.scale + y) * w + c0 * s.scale + x) * 3;
                    for c in 0..3 {
                        out.rgb[o + c] = ((planes[c * plane + at] + 1.0) * 0.5).clamp(0.0, 1.0);
                    }
                }
            }
        }
    }
    // A size that is whole latent cells needs no resampling (and no second copy of a large image).
    Ok(if (w, h) == (request.width, request.height) { out } else { out.resized(request.width, request.height) })
}
