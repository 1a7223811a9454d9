//! Inference plumbing every capability shares: finding and loading ONNX Runtime and caching
//! sessions ([`Runtime`]), model manifests and the checks that tie an ONNX file to them
//! ([`ModelStore`], [`ModelEntry`]), the one call that runs a model ([`run`], failing with
//! [`InferenceError`]), and seeded points in latent spaces ([`latent`]).
//!
//! Loading a model fails in one way, [`ModelError`], whatever the capability; a capability reads
//! its own settings table from `model.toml` with [`ModelEntry::task_table`], so adding one does
//! not touch this module.

pub mod latent;
mod manifest;
mod run;
mod runtime;

pub use manifest::{
    shape_matches, Manifest, ModelEntry, ModelError, ModelStore, TensorSpec, TrainingData, MANIFEST_FILE, MODELS_ENV,
};
pub use run::{run, InferenceError, Input, Outputs};

/// The unpacked release this binary runs from: the folder above `bin/` when it holds `models/`
/// (the layout `cargo xtask dist` writes: `bin/latentforge`, `lib/`, `models/`, `presets/`).
/// ONNX Runtime and the models are looked for there before the checkout the binary was built in,
/// so a release never picks up a checkout's files.
pub fn release_root() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?;
    let root = bin.parent()?;
    (bin.file_name()? == "bin" && root.join("models").is_dir()).then(|| root.to_path_buf())
}
pub use runtime::{
    locate_library, setup_dir, Device, Runtime, RuntimeError, RuntimeOptions, SharedSession, LIBRARY_ENV, LIBRARY_FILE,
    ORT_VERSION, SETUP_DIR, SETUP_HINT,
};
