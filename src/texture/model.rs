//! The texture network: the `[texture]` table of its manifest and one inference over a grid of
//! latent cells.

use super::{TextureError, TEXTURE_MODEL};
use crate::infer::{self, Input, ModelStore, Runtime, SharedSession};

/// The `[texture]` table of the texture model's `model.toml`.
#[derive(Debug, Clone, serde::Deserialize, PartialEq)]
pub struct TextureSpec {
    /// Material classes, in the order of the one-hot `class` input.
    pub classes: Vec<String>,
    /// Channels of the spatial latent.
    pub latent_channels: usize,
    /// Length of the style latents (`z_coarse`, `z_fine`).
    pub style: usize,
    /// Output pixels per latent cell.
    pub scale: usize,
    /// Latent cells of context a tile needs on each side to match a whole-image run.
    pub margin: usize,
}

/// The inputs of one run, laid out as the network takes them (batch 1).
pub struct Inputs<'a> {
    /// `latent_channels` planes of `rows` x `cols` cells.
    pub latent: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub z_coarse: &'a [f32],
    pub z_fine: &'a [f32],
    pub class: usize,
    pub truncation: f32,
    /// One plane of `rows * scale` x `cols * scale` pixels.
    pub noise: &'a [f32],
}

pub struct TextureModel {
    spec: TextureSpec,
    session: SharedSession,
}

impl TextureModel {
    pub fn load(runtime: &Runtime, store: &ModelStore) -> Result<Self, TextureError> {
        let entry = store.get(TEXTURE_MODEL)?;
        let spec: TextureSpec = entry.task_table("texture")?;
        if spec.classes.is_empty() || spec.scale == 0 || spec.latent_channels == 0 || spec.style == 0 {
            return Err(entry.invalid("[texture] needs classes, latent_channels, style and scale").into());
        }
        let (session, _) = entry.open(runtime)?;
        Ok(TextureModel { spec, session })
    }

    pub fn spec(&self) -> &TextureSpec {
        &self.spec
    }

    /// The class index of a material name (case-insensitive).
    pub fn class(&self, name: &str) -> Result<usize, TextureError> {
        self.spec
            .classes
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
            .ok_or_else(|| TextureError::UnknownMaterial { name: name.into(), available: self.spec.classes.join(", ") })
    }

    /// Runs the network once; returns RGB planes (3 x rows*scale x cols*scale) in -1..1.
    pub fn run(&self, i: &Inputs<'_>) -> Result<Vec<f32>, TextureError> {
        let s = &self.spec;
        let mut onehot = vec![0.0f32; s.classes.len()];
        onehot[i.class] = 1.0;
        let (h, w) = (i.rows * s.scale, i.cols * s.scale);
        let trunc = [i.truncation];
        let inputs = [
            Input::new([1, s.latent_channels, i.rows, i.cols], i.latent),
            Input::new([1, s.style], i.z_coarse),
            Input::new([1, s.style], i.z_fine),
            Input::new([1, s.classes.len()], &onehot),
            Input::new([1, 1], &trunc),
            Input::new([1, 1, h, w], i.noise),
        ];
        let out = infer::run(&self.session, TEXTURE_MODEL, &inputs)?;
        Ok(out.f32(0, &[1, 3, h as i64, w as i64])?.to_vec())
    }
}
