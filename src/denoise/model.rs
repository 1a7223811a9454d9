//! The denoising networks: the `[denoise]` table of their manifests, and loading one with the
//! checks that the engine can feed it.

use super::{AUX_MODEL, BLEND};
use crate::infer::{Device, ModelEntry, ModelError, Runtime, SharedSession};

/// The `[denoise]` table of a denoiser's `model.toml`.
#[derive(Debug, Clone, serde::Deserialize, PartialEq)]
pub struct DenoiseSpec {
    /// Auxiliary passes the network takes after colour, in order: `albedo`, `normal`.
    #[serde(default)]
    pub aux: Vec<String>,
    /// Spatial sizes must be a multiple of this (the U-Net's total downsampling).
    pub spatial_multiple: usize,
    /// Receptive-field radius in pixels; tiles carry at least this much context.
    pub context: usize,
    /// Peak working memory per pixel of a tile, measured with ONNX Runtime on CPU at export.
    pub peak_bytes_per_pixel: u64,
}

/// A network ready to run: manifest checked against file and graph.
pub(super) struct LoadedModel {
    pub name: String,
    pub spec: DenoiseSpec,
    pub session: SharedSession,
    pub device: Device,
}

pub(super) fn load_model(runtime: &Runtime, entry: &ModelEntry) -> Result<LoadedModel, ModelError> {
    let spec: DenoiseSpec = entry.task_table("denoise")?;
    if entry.manifest.transfer != "log1p" {
        return Err(
            entry.invalid(format!("unknown transfer function `{}` (this build knows log1p)", entry.manifest.transfer))
        );
    }
    if spec.spatial_multiple == 0 || BLEND / 2 > spec.context {
        return Err(entry.invalid("spatial_multiple must be > 0 and context at least 8"));
    }
    // The engine feeds colour, then albedo, then normal: the manifest must promise that order.
    let expected: &[&str] = if entry.manifest.name == AUX_MODEL { &["albedo", "normal"] } else { &[] };
    if spec.aux != expected {
        return Err(entry.invalid(format!("[denoise] aux is {:?}, this engine feeds {:?}", spec.aux, expected)));
    }
    let (session, device) = entry.open(runtime)?;
    Ok(LoadedModel { name: entry.manifest.name.clone(), spec, session, device })
}
