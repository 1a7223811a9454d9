//! Latentforge engine: ONNX Runtime sessions, model manifests and the generative tools built on
//! them. Front ends (the `latentforge` CLI, the plugins) stay thin over this crate.

pub mod atomic_file;
pub mod denoise;
pub mod drums;
pub mod frame;
pub mod groove;
pub mod latent;
pub mod models;
pub mod presets;
pub mod runtime;

pub use runtime::{Device, Runtime, RuntimeOptions};
