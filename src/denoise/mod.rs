//! Render denoising with Intel Open Image Denoise's networks (imported to ONNX, see
//! `models/train/denoise/`): picks the network for the frame's range (HDR/LDR), its passes
//! (colour, +albedo, +albedo+normal) and the quality asked for, prepares its inputs as OIDN does
//! (auto-exposure, transfer function), runs it in tiles with context and blended seams so any
//! frame size fits a memory budget, and writes the result without ever touching an input.
//!
//! `model` loads a network and its `[denoise]` table, `prepare` builds what the network sees,
//! `tiles` runs it over the frame, `metrics` compares a result with a reference, `temporal`
//! carries history through a frame sequence, `batch` overlaps reading, inference and writing
//! over a list of frames.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::infer::{Device, InferenceError, ModelError, ModelStore, Runtime};
use crate::invalid::InvalidValue;
use crate::io::frame::{self, Encoding, Frame, FrameError};
use crate::io::is_same_file;
use crate::io::limits::DecodeLimits;
use crate::io::sequence::{side_file, ALBEDO_PATTERN, NORMAL_PATTERN};

pub mod batch;
pub mod metrics;
mod model;
mod prepare;
pub mod temporal;
mod tiles;

pub use model::DenoiseSpec;
use model::{load_model, LoadedModel};
pub use prepare::AuxPasses;
use prepare::{autoexposure, from_transfer, linear_color, Planes};
use tiles::{run_tiled, tile_core_size};
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
    #[error("{path}: denoising failed")]
    Inference {
        path: PathBuf,
        #[source]
        source: InferenceError,
    },
    #[error("{path}: model {model} needs {passes} passes, which this frame does not have")]
    PassesMissing { path: PathBuf, model: String, passes: String },
    #[error("{path}: model {model} denoises {model_range} frames and this one is {frame_range}; pick a {frame_range} model or set --range")]
    WrongRange { path: PathBuf, model: String, model_range: String, frame_range: &'static str },
}

/// Speed against quality, mapped to networks as OIDN maps its quality levels: `Fast` runs OIDN's
/// `small` networks; `Balanced` and `High` run its default ones (OIDN's balanced mode differs from
/// high only by reduced-precision arithmetic on GPUs; ours computes in float32 everywhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quality {
    Fast,
    Balanced,
    #[default]
    High,
}

/// The bundled network for a range, a set of passes and a quality:
/// `denoise-{hdr|ldr}[-alb[-nrm]][-small]`.
pub fn model_name(hdr: bool, aux: AuxPasses, quality: Quality) -> String {
    format!(
        "denoise-{}{}{}{}",
        if hdr { "hdr" } else { "ldr" },
        if aux.albedo { "-alb" } else { "" },
        if aux.albedo && aux.normal { "-nrm" } else { "" },
        if quality == Quality::Fast { "-small" } else { "" }
    )
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
    pub quality: Quality,
    /// Run this bundled network instead of the one `quality` picks (its passes and range must
    /// fit the frame).
    pub model: Option<String>,
    /// What a frame's header may claim before it is refused (`--max-pixels`).
    pub limits: DecodeLimits,
}

/// Smallest core tile `--tile` may ask for: smaller cores spend nearly all their time on context.
pub const MIN_TILE: usize = 32;

impl DenoiseOptions {
    /// These options if every value is one the denoiser takes (a tile of at least [`MIN_TILE`]
    /// pixels): what a front end builds, then checks once.
    pub fn checked(self) -> Result<DenoiseOptions, InvalidValue> {
        if let Some(t) = self.tile.filter(|t| *t < MIN_TILE) {
            return Err(InvalidValue::new("tile", t, format!("at least {MIN_TILE} pixels")));
        }
        Ok(self)
    }
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
            quality: Quality::default(),
            model: None,
            limits: DecodeLimits::default(),
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
    pub times: StageTimes,
}

/// A denoised frame's colour (same encoding as the input) and how it was made.
#[derive(Debug, Clone)]
pub struct Denoised {
    pub color: Vec<f32>,
    pub model: String,
    pub device: Device,
    pub tiles: usize,
    /// Where the time went (`model`, `prepare`, `infer`, `finish`; reading and writing are the
    /// caller's).
    pub times: StageTimes,
}

/// Where one frame's time went, in milliseconds, stage by stage (`denoise --timings`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimes {
    /// Reading the file and its side-file passes, decoding included.
    pub read: f64,
    /// Choosing the network, loading it on first use (the first frame pays for the session).
    pub model: f64,
    /// Linearising, auto-exposure, the transfer function and the input planes.
    pub prepare: f64,
    /// ONNX Runtime over every tile, with the tiles' copies in and out.
    pub infer: f64,
    /// The inverse transfer back to the frame's encoding.
    pub finish: f64,
    /// Encoding and writing the output atomically.
    pub write: f64,
}

impl StageTimes {
    /// The stages by name, in the order they run.
    pub fn stages(&self) -> [(&'static str, f64); 6] {
        [
            ("read", self.read),
            ("model", self.model),
            ("prepare", self.prepare),
            ("infer", self.infer),
            ("finish", self.finish),
            ("write", self.write),
        ]
    }

    pub fn total(&self) -> f64 {
        self.stages().iter().map(|(_, ms)| ms).sum()
    }
}

/// Milliseconds since `t`, restarting it.
fn lap(t: &mut Instant) -> f64 {
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    *t = Instant::now();
    ms
}

/// Denoises frames with the bundled models. Models load on first use and stay loaded.
pub struct Denoiser {
    runtime: Arc<Runtime>,
    store: ModelStore,
    loaded: Mutex<HashMap<String, Arc<LoadedModel>>>,
}

impl Denoiser {
    pub fn new(runtime: Arc<Runtime>, store: ModelStore) -> Self {
        Denoiser { runtime, store, loaded: Default::default() }
    }

    fn model(&self, name: &str) -> Result<Arc<LoadedModel>, DenoiseError> {
        if let Some(m) = self.loaded.lock().unwrap_or_else(|p| p.into_inner()).get(name) {
            return Ok(m.clone());
        }
        // Loaded outside the lock: another thread may load the same model meanwhile; the first
        // one stored wins and both are equal.
        let loaded = Arc::new(load_model(&self.runtime, &self.store.get(name)?)?);
        Ok(self.loaded.lock().unwrap_or_else(|p| p.into_inner()).entry(name.to_string()).or_insert(loaded).clone())
    }

    /// Loads now, rather than at the first frame, every network a frame denoised with `opts`
    /// may need: a service fails at start-up, and its first frame is not slower.
    pub fn preload(&self, opts: &DenoiseOptions) -> Result<(), DenoiseError> {
        if let Some(name) = &opts.model {
            self.model(name)?;
            return Ok(());
        }
        let ranges: &[bool] = match opts.encoding {
            Some(Encoding::Srgb) => &[false],
            Some(_) => &[true],
            None => &[true, false],
        };
        let mut sets = vec![AuxPasses { albedo: false, normal: false }];
        if opts.use_aux {
            sets.push(AuxPasses { albedo: true, normal: false });
            sets.push(AuxPasses { albedo: true, normal: true });
        }
        for &hdr in ranges {
            for &aux in &sets {
                self.model(&model_name(hdr, aux, opts.quality))?;
            }
        }
        Ok(())
    }

    /// The network for this frame and the passes it will be fed.
    fn pick(
        &self,
        frame: &Frame,
        opts: &DenoiseOptions,
        hdr: bool,
        path: &Path,
    ) -> Result<(Arc<LoadedModel>, AuxPasses), DenoiseError> {
        let available = AuxPasses {
            albedo: opts.use_aux && frame.albedo.is_some(),
            normal: opts.use_aux && frame.albedo.is_some() && frame.normal.is_some(),
        };
        if opts.use_aux && frame.normal.is_some() && frame.albedo.is_none() {
            tracing::warn!(
                "{}: a normal pass without albedo cannot be used; denoising from colour alone",
                path.display()
            );
        }
        let Some(name) = &opts.model else {
            return Ok((self.model(&model_name(hdr, available, opts.quality))?, available));
        };
        let model = self.model(name)?;
        let wants = model.aux;
        if (wants.albedo && !available.albedo) || (wants.normal && !available.normal) {
            return Err(DenoiseError::PassesMissing {
                path: path.to_path_buf(),
                model: name.clone(),
                passes: model.spec.aux.join(" + "),
            });
        }
        if model.hdr != hdr {
            return Err(DenoiseError::WrongRange {
                path: path.to_path_buf(),
                model: name.clone(),
                model_range: model.spec.range.to_string(),
                frame_range: if hdr { "hdr" } else { "ldr" },
            });
        }
        Ok((model, wants))
    }

    /// Denoises one frame in memory; `path` only names the frame in errors.
    pub fn denoise_frame(&self, frame: &Frame, opts: &DenoiseOptions, path: &Path) -> Result<Denoised, DenoiseError> {
        let mut t = Instant::now();
        let mut times = StageTimes::default();
        frame.check_finite(path)?;
        let encoding = opts.encoding.unwrap_or(frame.encoding);
        let hdr = encoding != Encoding::Srgb;
        let (model, aux) = self.pick(frame, opts, hdr, path)?;
        times.model = lap(&mut t);
        let linear = linear_color(frame, encoding);
        // OIDN scales HDR input by its auto-exposure and LDR input not at all.
        let scale = if hdr { autoexposure(&linear, frame.width, frame.height) } else { 1.0 };
        let input = Planes::build(frame, &linear, model.transfer, scale, aux);
        times.prepare = lap(&mut t);
        let core = tile_core_size(frame.width, frame.height, &model.spec, opts);
        let (out, tiles) = run_tiled(&model, &input, core, path)?;
        times.infer = lap(&mut t);
        let color = out.iter().map(|&t| from_transfer(t, model.transfer, scale, encoding)).collect();
        times.finish = lap(&mut t);
        Ok(Denoised { color, model: model.name.clone(), device: model.device, tiles, times })
    }

    /// Reads `input` (plus side-file passes), denoises it and writes `output` atomically.
    pub fn denoise_file(
        &self,
        input: &Path,
        output: &Path,
        opts: &DenoiseOptions,
    ) -> Result<DenoiseReport, DenoiseError> {
        let start = Instant::now();
        let mut t = Instant::now();
        let source = read_source(input, opts)?;
        source.check_output(output)?;
        let read = lap(&mut t);
        let done = self.denoise_frame(&source.frame, opts, input)?;
        DenoiseReport::write(source, done, input, output, read, start)
    }
}

impl DenoiseReport {
    /// Writes `done`'s colour over `source` (keeping its passes and layers) to `output`
    /// atomically, and reports the frame: `read` ms of reading, `started` when it began.
    fn write(
        mut source: Source,
        done: Denoised,
        input: &Path,
        output: &Path,
        read: f64,
        started: Instant,
    ) -> Result<DenoiseReport, DenoiseError> {
        source.frame.color = done.color;
        let mut t = Instant::now();
        frame::write_frame_atomic(&source.frame, output)?;
        Ok(DenoiseReport {
            input: input.to_path_buf(),
            output: output.to_path_buf(),
            model: done.model,
            device: done.device,
            tiles: done.tiles,
            millis: started.elapsed().as_millis(),
            times: StageTimes { read, write: lap(&mut t), ..done.times },
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
    let mut frame = frame::read_frame(input, &opts.limits)?;
    let mut files = vec![input.to_path_buf()];
    if opts.use_aux {
        for (pass, pattern) in [("albedo", &opts.albedo_pattern), ("normal", &opts.normal_pattern)] {
            let present = if pass == "albedo" { frame.albedo.is_some() } else { frame.normal.is_some() };
            let Some(side) = pattern.as_deref().and_then(|p| side_file(input, p)) else { continue };
            if present || !side.is_file() {
                continue;
            }
            let data = frame::read_side_pass(&side, pass, frame.width, frame.height, &opts.limits)?;
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
