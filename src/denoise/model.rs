//! The denoising networks: the `[denoise]` table of their manifests, and loading one with the
//! checks that the engine can feed it.

use super::prepare::{AuxPasses, Transfer};
use super::BLEND;
use crate::infer::{Device, ModelEntry, ModelError, Runtime, SharedSession};

/// Name of an input or output channel that only pads the graph's channel count.
const PAD_CHANNEL: &str = "pad";

/// The `[denoise]` table of a denoiser's `model.toml`.
#[derive(Debug, Clone, serde::Deserialize, PartialEq)]
pub struct DenoiseSpec {
    /// `hdr` (linear radiance, PU transfer) or `ldr` (display-referred 0..1, sRGB transfer).
    pub range: String,
    /// Auxiliary passes the network takes after colour, in order: none, `albedo`, or `albedo`
    /// and `normal`.
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
    pub transfer: Transfer,
    pub hdr: bool,
    pub aux: AuxPasses,
    /// Input channels the graph takes: the passes, then zeros up to a SIMD-friendly count.
    pub input_channels: usize,
    pub session: SharedSession,
    pub device: Device,
}

pub(super) fn load_model(runtime: &Runtime, entry: &ModelEntry) -> Result<LoadedModel, ModelError> {
    let spec: DenoiseSpec = entry.task_table("denoise")?;
    let transfer = Transfer::parse(&entry.manifest.transfer).ok_or_else(|| {
        entry.invalid(format!("unknown transfer function `{}` (this build knows pu, srgb)", entry.manifest.transfer))
    })?;
    let hdr = match (spec.range.as_str(), transfer) {
        ("hdr", Transfer::Pu) => true,
        ("ldr", Transfer::Srgb) => false,
        (range, _) => {
            return Err(entry.invalid(format!(
                "[denoise] range `{range}` with transfer `{}` (expected hdr with pu or ldr with srgb)",
                entry.manifest.transfer
            )))
        }
    };
    if spec.spatial_multiple == 0 || BLEND / 2 > spec.context {
        return Err(entry.invalid("spatial_multiple must be > 0 and context at least 8"));
    }
    // The engine feeds colour, then albedo, then normal: the manifest must promise that order.
    let aux = match spec.aux.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => AuxPasses { albedo: false, normal: false },
        ["albedo"] => AuxPasses { albedo: true, normal: false },
        ["albedo", "normal"] => AuxPasses { albedo: true, normal: true },
        _ => {
            return Err(entry.invalid(format!(
                "[denoise] aux is {:?}; this engine feeds [], [\"albedo\"] or [\"albedo\", \"normal\"]",
                spec.aux
            )))
        }
    };
    let input_channels = padded_input_channels(entry, aux.channels())?;
    let (session, device) = entry.open(runtime)?;
    Ok(LoadedModel { name: entry.manifest.name.clone(), spec, transfer, hdr, aux, input_channels, session, device })
}

/// Channels of the input: the `used` ones the engine fills, then any number named `pad` that it
/// leaves zero (so the first convolution runs in ORT's blocked layout; see
/// models/train/denoise/pad_channels.py).
fn padded_input_channels(entry: &ModelEntry, used: usize) -> Result<usize, ModelError> {
    let input = entry.manifest.inputs.first().ok_or_else(|| entry.invalid("no input tensor"))?;
    let total = input.shape.get(1).copied().unwrap_or(0);
    let padding_named = input.channels.iter().skip(used).all(|c| c == PAD_CHANNEL);
    if total < used as i64 || !padding_named {
        return Err(entry.invalid(format!(
            "input has {total} channels; [denoise] aux needs {used}, followed only by `{PAD_CHANNEL}` channels"
        )));
    }
    Ok(total as usize)
}
