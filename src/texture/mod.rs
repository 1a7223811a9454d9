//! Tileable material textures from the texture generator: seeded latents from knobs
//! ([`synth`]: seed, style mixing, latent walks, truncation; any size, in tiles so 4096² fits in
//! bounded memory), the network itself ([`model`]), PBR maps from the albedo by the trained material network
//! ([`material`]) or a luminance heuristic ([`pbr`]),
//! and the texture image with its seam score and contact sheets ([`image`]). Variations of an
//! artist's own material set, every map in step, come from coordinate synthesis ([`exemplar`]);
//! [`metrics`] holds what tests, benches and `--json` report of any texture.
//!
//! Every layer of the network pads circularly and nothing normalises over the whole image, so
//! an output tiles exactly and tiles of a large output agree with a whole-image run.

use crate::infer::{InferenceError, ModelError};
use crate::invalid::InvalidValue;
use crate::io::frame::FrameError;

pub mod exemplar;
pub mod image;
pub mod map;
pub mod material;
pub mod metrics;
pub mod model;
pub mod pbr;
pub mod synth;

pub use image::{contact_sheet, seam_score, Texture};
pub use material::{looks_like_normal_map, MaterialModel, MATERIAL_MODEL};
pub use model::{TextureModel, TextureSpec};
pub use pbr::{NormalConvention, NormalSettings, PbrMaps};
pub use synth::{Style, TextureRequest};

pub const TEXTURE_MODEL: &str = "texture";
/// Largest side a texture may have, in pixels.
pub const MAX_SIZE: usize = 8192;
/// Smallest side, in pixels.
pub const MIN_SIZE: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum TextureError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Inference(#[from] InferenceError),
    #[error("unknown material `{name}` (available: {available})")]
    UnknownMaterial { name: String, available: String },
    #[error(transparent)]
    Invalid(#[from] InvalidValue),
    /// A texture that could not be written (the frame error names the file).
    #[error(transparent)]
    Write(#[from] FrameError),
}

/// A texture's size is [`MIN_SIZE`]..=[`MAX_SIZE`] pixels per side.
pub fn check_size(width: usize, height: usize) -> Result<(), InvalidValue> {
    let ok = |v: usize| (MIN_SIZE..=MAX_SIZE).contains(&v);
    if ok(width) && ok(height) {
        Ok(())
    } else {
        Err(InvalidValue::new("size", format!("{width}x{height}"), format!("{MIN_SIZE} to {MAX_SIZE} pixels per side")))
    }
}
