//! Render denoising: picks the colour-only or colour+albedo+normal network, prepares its inputs
//! (auto-exposure, HDR transfer function), runs it in tiles with context and blended seams so any
//! frame size fits a memory budget, and writes the result without ever touching an input.
//!
//! `model` loads a network and its `[denoise]` table, `prepare` builds what the network sees,
//! `tiles` runs it over the frame.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::infer::{Device, ModelError, ModelStore, Runtime};
use crate::io::frame::{self, Encoding, Frame, FrameError};
use crate::io::is_same_file;
use crate::io::sequence::{side_file, ALBEDO_PATTERN, NORMAL_PATTERN};

mod model;
mod prepare;
mod tiles;

pub use model::DenoiseSpec;
use model::{load_model, LoadedModel};
use prepare::{autoexposure, from_transfer, linear_color, Planes};
use tiles::{run_tiled, tile_core_size};

/// The bundled model names.
pub const COLOR_MODEL: &str = "denoise-color";
pub const AUX_MODEL: &str = "denoise-color-aux";
/// Default working-memory budget for one tile's inference.
pub const DEFAULT_MAX_MEMORY: u64 = 2 << 30;
/// Width of the cross-fade between neighbouring tiles, in pixels.
const BLEND: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum DenoiseError {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("{path}: inference failed: {reason}")]
    Inference { path: PathBuf, reason: String },
}

#[derive(Debug, Clone)]
pub struct DenoiseOptions {
    /// Treat colour as linear HDR or display-referred LDR; `None` takes it from the file format.
    pub encoding: Option<Encoding>,
    /// Core tile size in pixels; `None` derives it from `max_memory`.
    pub tile: Option<usize>,
    pub max_memory: u64,
    /// Use albedo/normal passes when the frame has them.
    pub use_aux: bool,
    /// Side files for frames without embedded passes, e.g. `{stem}_albedo.{ext}`; see [`side_file`].
    pub albedo_pattern: Option<String>,
    pub normal_pattern: Option<String>,
}

impl Default for DenoiseOptions {
    fn default() -> Self {
        DenoiseOptions {
            encoding: None,
            tile: None,
            max_memory: DEFAULT_MAX_MEMORY,
            use_aux: true,
            albedo_pattern: Some(ALBEDO_PATTERN.into()),
            normal_pattern: Some(NORMAL_PATTERN.into()),
        }
    }
}

/// What happened to one frame.
#[derive(Debug, Clone)]
pub struct DenoiseReport {
    pub input: PathBuf,
    pub output: PathBuf,
    pub model: String,
    pub device: Device,
    pub tiles: usize,
    pub millis: u128,
}

/// A denoised frame's colour (same encoding as the input) and how it was made.
#[derive(Debug, Clone)]
pub struct Denoised {
    pub color: Vec<f32>,
    pub model: String,
    pub device: Device,
    pub tiles: usize,
}

/// Denoises frames with the bundled models. Models load on first use and stay loaded.
pub struct Denoiser {
    runtime: Arc<Runtime>,
    store: ModelStore,
    color: OnceLock<Arc<LoadedModel>>,
    aux: OnceLock<Arc<LoadedModel>>,
}

impl Denoiser {
    pub fn new(runtime: Arc<Runtime>, store: ModelStore) -> Self {
        Denoiser { runtime, store, color: Default::default(), aux: Default::default() }
    }

    fn model(&self, with_aux: bool) -> Result<Arc<LoadedModel>, DenoiseError> {
        let (slot, name) = if with_aux { (&self.aux, AUX_MODEL) } else { (&self.color, COLOR_MODEL) };
        if let Some(m) = slot.get() {
            return Ok(m.clone());
        }
        let loaded = Arc::new(load_model(&self.runtime, &self.store.get(name)?)?);
        Ok(slot.get_or_init(|| loaded).clone())
    }

    /// Loads the colour model and, with `with_aux`, the colour+albedo+normal one now rather than
    /// at the first frame: a service fails at start-up, and its first frame is not slower.
    pub fn preload(&self, with_aux: bool) -> Result<(), DenoiseError> {
        self.model(false)?;
        if with_aux {
            self.model(true)?;
        }
        Ok(())
    }

    /// Denoises one frame in memory; `path` only names the frame in errors.
    pub fn denoise_frame(&self, frame: &Frame, opts: &DenoiseOptions, path: &Path) -> Result<Denoised, DenoiseError> {
        frame.check_finite(path)?;
        let with_aux = opts.use_aux && frame.albedo.is_some() && frame.normal.is_some();
        if opts.use_aux && frame.albedo.is_some() != frame.normal.is_some() {
            tracing::warn!("{}: only one of albedo/normal is present; denoising from colour alone", path.display());
        }
        let model = self.model(with_aux)?;
        let encoding = opts.encoding.unwrap_or(frame.encoding);
        let linear = linear_color(frame, encoding);
        let exposure = autoexposure(&linear, frame.width, frame.height);
        let input = Planes::build(frame, &linear, exposure, with_aux);
        let core = tile_core_size(frame.width, frame.height, &model.spec, opts);
        let (out, tiles) = run_tiled(&model, &input, core, path)?;
        let color = out.iter().map(|&t| from_transfer(t, exposure, encoding)).collect();
        Ok(Denoised { color, model: model.name.clone(), device: model.device, tiles })
    }

    /// Reads `input` (plus side-file passes), denoises it and writes `output` atomically.
    pub fn denoise_file(
        &self,
        input: &Path,
        output: &Path,
        opts: &DenoiseOptions,
    ) -> Result<DenoiseReport, DenoiseError> {
        let start = Instant::now();
        let mut source = read_source(input, opts)?;
        source.check_output(output)?;
        let done = self.denoise_frame(&source.frame, opts, input)?;
        source.frame.color = done.color;
        frame::write_frame_atomic(&source.frame, output)?;
        Ok(DenoiseReport {
            input: input.to_path_buf(),
            output: output.to_path_buf(),
            model: done.model,
            device: done.device,
            tiles: done.tiles,
            millis: start.elapsed().as_millis(),
        })
    }
}

/// A frame read from disk with the passes its side files hold: what is denoised.
#[derive(Debug, Clone)]
pub struct Source {
    pub frame: Frame,
    /// Every file the frame was read from (the frame, then side files); no output may replace one.
    pub files: Vec<PathBuf>,
}

impl Source {
    /// Refuses an output path that is one of the files this frame was read from.
    pub fn check_output(&self, output: &Path) -> Result<(), FrameError> {
        if self.files.iter().any(|i| i == output || is_same_file(output, i)) {
            return Err(FrameError::WouldOverwriteInput { path: output.to_path_buf() });
        }
        Ok(())
    }
}

/// Reads `input` and, when `opts` uses passes and the file lacks them, its albedo/normal side
/// files (by `opts`' patterns) where they exist.
pub fn read_source(input: &Path, opts: &DenoiseOptions) -> Result<Source, FrameError> {
    let mut frame = frame::read_frame(input)?;
    let mut files = vec![input.to_path_buf()];
    if opts.use_aux {
        for (pass, pattern) in [("albedo", &opts.albedo_pattern), ("normal", &opts.normal_pattern)] {
            let present = if pass == "albedo" { frame.albedo.is_some() } else { frame.normal.is_some() };
            let Some(side) = pattern.as_deref().and_then(|p| side_file(input, p)) else { continue };
            if present || !side.is_file() {
                continue;
            }
            let data = frame::read_side_pass(&side, pass, frame.width, frame.height)?;
            if pass == "albedo" {
                frame.albedo = Some(data)
            } else {
                frame.normal = Some(data)
            }
            files.push(side);
        }
    }
    Ok(Source { frame, files })
}
