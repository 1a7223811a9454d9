//! Latentforge engine: ONNX Runtime sessions, model manifests and the generative tools built on
//! them. Front ends (the `latentforge` CLI, the plugins) stay thin over this crate.
//!
//! One folder per capability: [`infer`] (runtime, manifests, latents) and [`io`] (files) serve
//! [`denoise`] (render denoising), [`watch`] (denoising frames as a renderer writes them),
//! [`texture`] (tileable material textures), [`upscale`] (maps 2x or 4x, tiling kept), [`groove`] (drum patterns) and [`drums`] (drum
//! sounds); [`presets`] holds every capability's named settings; [`farm`] splits a job into
//! chunks for a render farm's scheduler and speaks to Slurm. Every request checks the values it is
//! built from once, failing with [`InvalidValue`].

pub mod denoise;
pub mod drums;
pub mod farm;
pub mod groove;
pub mod infer;
pub mod invalid;
pub mod io;
pub mod presets;
pub mod texture;
pub mod upscale;
pub mod watch;

pub use infer::{Device, Runtime, RuntimeOptions};

/// `e` and every error beneath it (its `source()` chain), joined by ": ": what a front end shows
/// or records when it has only a line for an error. Errors keep their cause as a source rather
/// than in their own message, so printing only `e` would drop it. A cause whose text the line
/// already ends with is not repeated (some libraries' errors print their source themselves).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let line = c.to_string();
        if !text.ends_with(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        cause = c.source();
    }
    text
}
pub use invalid::InvalidValue;
