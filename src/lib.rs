//! Latentforge engine: ONNX Runtime sessions, model manifests and the generative tools built on
//! them. Front ends (the `latentforge` CLI, the plugins) stay thin over this crate.

pub mod denoise;
pub mod frame;
pub mod models;
pub mod runtime;

pub use runtime::{Device, Runtime, RuntimeOptions};
