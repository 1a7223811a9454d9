//! ONNX Runtime: finding the shared library, initialising `ort`, choosing a device, and caching
//! one session per model and device.
//!
//! The library is loaded at run time (`load-dynamic`) so a missing or wrong library is an error
//! message that says what to run, never a panic at start-up.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;

// The one place the ONNX Runtime version is written; the names below are built from it.
macro_rules! ort_version {
    () => {
        "1.31.1"
    };
}
/// The ONNX Runtime release the engine is built and tested against (`ort` feature `api-31`).
pub const ORT_VERSION: &str = ort_version!();
/// File name of the library inside the PyPI wheel `onnxruntime==ORT_VERSION`.
pub const LIBRARY_FILE: &str = concat!("libonnxruntime.so.", ort_version!());
/// Environment variable that points at the library (a file) or at a folder holding it.
pub const LIBRARY_ENV: &str = "LATENTFORGE_ORT";
/// Folder that `cargo xtask setup` fills, relative to the repository root.
pub const SETUP_DIR: &str = ".ort";
/// The one-line fix printed whenever the library cannot be found or loaded.
pub const SETUP_HINT: &str = concat!(
    "run `cargo xtask setup` (or `cargo xtask setup --gpu` for CUDA), or point LATENTFORGE_ORT at libonnxruntime.so.",
    ort_version!()
);

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("ONNX Runtime library not found (looked in: {searched}); {SETUP_HINT}")]
    LibraryMissing { searched: String },
    #[error("{path}: no such file; {SETUP_HINT}")]
    LibraryNotThere { path: PathBuf },
    #[error("could not load ONNX Runtime from {path}; {SETUP_HINT}")]
    LibraryLoad {
        path: PathBuf,
        #[source]
        source: ort::LoadDynamicError,
    },
    #[error("ONNX Runtime from {path} could not start; {SETUP_HINT}")]
    Environment {
        path: PathBuf,
        #[source]
        source: ort::Error,
    },
    #[error("ONNX Runtime was already initialised from {loaded}, cannot switch to {requested}")]
    AlreadyLoaded { loaded: PathBuf, requested: PathBuf },
    #[error("model {path}: ONNX Runtime could not create a session")]
    Session {
        path: PathBuf,
        #[source]
        source: ort::Error,
    },
    #[error("unknown device `{0}`: use auto, cpu or cuda")]
    UnknownDevice(String),
    /// Why a CUDA session could not be made; the caller falls back to the CPU.
    #[error("{0}")]
    CudaUnavailable(String),
}

/// Where inference runs. `Auto` tries CUDA and quietly uses the CPU when CUDA is not there;
/// `Cuda` tries CUDA and warns, naming the reason, when it has to fall back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Device {
    #[default]
    Auto,
    Cpu,
    Cuda,
}

impl FromStr for Device {
    type Err = RuntimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Device::Auto),
            "cpu" => Ok(Device::Cpu),
            "cuda" | "gpu" => Ok(Device::Cuda),
            other => Err(RuntimeError::UnknownDevice(other.to_string())),
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Device::Auto => "auto",
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        })
    }
}

/// Options a front end (CLI, plugin) passes to the runtime.
#[derive(Debug, Clone, Default)]
pub struct RuntimeOptions {
    /// Explicit library path (a `--ort-lib` flag); wins over every other place.
    pub library: Option<PathBuf>,
    pub device: Device,
    /// Intra-op threads per session; `None` lets ONNX Runtime use all cores.
    pub intra_threads: Option<usize>,
}

/// A session shared between callers; `ort` needs `&mut` to run, so it sits behind a mutex.
pub type SharedSession = Arc<Mutex<Session>>;

/// The loaded runtime. Create one per process with [`Runtime::new`] and share it.
pub struct Runtime {
    library: PathBuf,
    env: Environment,
    options: RuntimeOptions,
    sessions: Mutex<HashMap<(PathBuf, Device), (SharedSession, Device)>>,
}

static LOADED_FROM: OnceLock<PathBuf> = OnceLock::new();

impl Runtime {
    pub fn new(options: RuntimeOptions) -> Result<Self, RuntimeError> {
        let library = locate_library(options.library.as_deref())?;
        if let Some(loaded) = LOADED_FROM.get() {
            if *loaded != library {
                return Err(RuntimeError::AlreadyLoaded { loaded: loaded.clone(), requested: library });
            }
        }
        let builder =
            ort::init_from(&library).map_err(|source| RuntimeError::LibraryLoad { path: library.clone(), source })?;
        let _ = LOADED_FROM.set(library.clone());
        let env = builder
            .with_name("latentforge")
            .build()
            .map_err(|source| RuntimeError::Environment { path: library.clone(), source })?;
        Ok(Runtime { library, env, options, sessions: Mutex::new(HashMap::new()) })
    }

    pub fn library(&self) -> &Path {
        &self.library
    }

    /// The version the loaded ONNX Runtime library reports of itself (`GetVersionString`).
    pub fn loaded_version(&self) -> Option<String> {
        type ApiBase = unsafe extern "system" fn() -> *const ort::sys::OrtApiBase;
        // SAFETY: the library is loaded already (this opens the same handle again) and exports
        // OrtGetApiBase, whose table's GetVersionString returns a static, NUL-terminated string.
        unsafe {
            let lib = libloading::Library::new(&self.library).ok()?;
            let base = lib.get::<ApiBase>(b"OrtGetApiBase").ok()?();
            if base.is_null() {
                return None;
            }
            let text = ((*base).GetVersionString)();
            (!text.is_null()).then(|| std::ffi::CStr::from_ptr(text).to_string_lossy().into_owned())
        }
    }

    pub fn options(&self) -> &RuntimeOptions {
        &self.options
    }

    /// A session for `model`, created once per model file and requested device. Returns the
    /// device the session really runs on (CPU after a CUDA fallback).
    pub fn session(&self, model: &Path) -> Result<(SharedSession, Device), RuntimeError> {
        let key = (model.to_path_buf(), self.options.device);
        let mut cache = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((session, device)) = cache.get(&key) {
            return Ok((session.clone(), *device));
        }
        let (session, device) = self.create_session(model)?;
        let shared = Arc::new(Mutex::new(session));
        cache.insert(key, (shared.clone(), device));
        Ok((shared, device))
    }

    fn builder(&self) -> ort::Result<ort::session::builder::SessionBuilder> {
        let mut b = Session::builder(&self.env)?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(ort::Error::<()>::from)?
            // Spinning burns a core while idle: bad for a watch service or a DAW sharing the CPU.
            .with_intra_op_spinning(false)
            .map_err(ort::Error::<()>::from)?
            .with_inter_op_spinning(false)
            .map_err(ort::Error::<()>::from)?;
        if let Some(n) = self.options.intra_threads {
            b = b.with_intra_threads(n.max(1)).map_err(ort::Error::<()>::from)?;
        }
        Ok(b)
    }

    fn create_session(&self, model: &Path) -> Result<(Session, Device), RuntimeError> {
        let session_err = |source: ort::Error| RuntimeError::Session { path: model.to_path_buf(), source };
        if self.options.device != Device::Cpu {
            match self.cuda_session(model) {
                Ok(s) => return Ok((s, Device::Cuda)),
                Err(reason) => {
                    if self.options.device == Device::Cuda {
                        tracing::warn!("CUDA unavailable, running on CPU instead: {reason}");
                    } else {
                        tracing::info!("CUDA unavailable ({reason}); using CPU");
                    }
                }
            }
        }
        let session = self.builder().and_then(|mut b| b.commit_from_file(model)).map_err(session_err)?;
        Ok((session, Device::Cpu))
    }

    #[cfg(feature = "cuda")]
    fn cuda_session(&self, model: &Path) -> Result<Session, RuntimeError> {
        let unavailable = |e: ort::Error| RuntimeError::CudaUnavailable(e.to_string());
        // `cargo xtask setup --gpu` puts the CUDA and cuDNN libraries beside ONNX Runtime; load
        // them by path first so the CUDA provider finds them without LD_LIBRARY_PATH.
        let dir = self.library.parent().unwrap_or(Path::new("."));
        if dir.join("libcudart.so.13").is_file() {
            static PRELOAD: OnceLock<Option<String>> = OnceLock::new();
            let failed = PRELOAD
                .get_or_init(|| ort::ep::cuda::preload_dylibs(Some(dir), Some(dir)).err().map(|e| e.to_string()));
            if let Some(reason) = failed {
                return Err(RuntimeError::CudaUnavailable(reason.clone()));
            }
        }
        let cuda = ort::ep::CUDA::default().build().error_on_failure();
        let mut builder = self
            .builder()
            .map_err(unavailable)?
            .with_execution_providers([cuda])
            .map_err(|e| unavailable(ort::Error::<()>::from(e)))?;
        builder.commit_from_file(model).map_err(unavailable)
    }

    #[cfg(not(feature = "cuda"))]
    fn cuda_session(&self, _model: &Path) -> Result<Session, RuntimeError> {
        Err(RuntimeError::CudaUnavailable("this build has no CUDA support (rebuild with `--features cuda`)".into()))
    }
}

/// Finds the library: explicit path, then `LATENTFORGE_ORT`, then the set-up folder of this
/// checkout, then beside the executable. Each place may name the file or a folder holding it.
pub fn locate_library(explicit: Option<&Path>) -> Result<PathBuf, RuntimeError> {
    let env = std::env::var_os(LIBRARY_ENV).filter(|v| !v.is_empty()).map(PathBuf::from);
    let candidates = library_candidates(explicit, env.as_deref());
    // A place the user named (flag or variable) is never silently replaced by another library.
    if explicit.is_some() || env.is_some() {
        let named = &candidates[0];
        return if named.is_file() {
            Ok(named.clone())
        } else {
            Err(RuntimeError::LibraryNotThere { path: named.clone() })
        };
    }
    candidates.iter().find(|c| c.is_file()).cloned().ok_or_else(|| RuntimeError::LibraryMissing {
        searched: candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
    })
}

fn library_candidates(explicit: Option<&Path>, env: Option<&Path>) -> Vec<PathBuf> {
    let as_file = |p: &Path| if p.is_dir() { p.join(LIBRARY_FILE) } else { p.to_path_buf() };
    let mut out = Vec::new();
    if let Some(p) = explicit {
        out.push(as_file(p));
    }
    if let Some(p) = env {
        out.push(as_file(p));
    }
    if let Some(root) = super::release_root() {
        out.push(root.join("lib").join(LIBRARY_FILE));
    }
    let setup = setup_dir();
    // A GPU set-up holds the CUDA-enabled build; prefer it when present.
    out.push(setup.join("gpu").join(LIBRARY_FILE));
    out.push(setup.join("cpu").join(LIBRARY_FILE));
    if let Some(dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
        out.push(dir.join(LIBRARY_FILE));
    }
    out
}

/// The set-up folder of the checkout this engine was built from.
pub fn setup_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(SETUP_DIR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_parses_and_rejects() {
        assert_eq!("CUDA".parse::<Device>().unwrap(), Device::Cuda);
        assert_eq!("cpu".parse::<Device>().unwrap(), Device::Cpu);
        let err = "tpu".parse::<Device>().unwrap_err().to_string();
        assert!(err.contains("auto, cpu or cuda"), "{err}");
    }

    #[test]
    fn explicit_path_comes_first_and_folders_are_expanded() {
        let dir = tempfile::tempdir().unwrap();
        let c = library_candidates(Some(dir.path()), Some(Path::new("/nowhere/lib.so")));
        assert_eq!(c[0], dir.path().join(LIBRARY_FILE));
        assert_eq!(c[1], PathBuf::from("/nowhere/lib.so"));
    }

    #[test]
    fn missing_explicit_library_names_the_path_and_the_fix() {
        let err = locate_library(Some(Path::new("/definitely/not/here.so"))).unwrap_err().to_string();
        assert!(err.contains("/definitely/not/here.so"), "{err}");
        assert!(err.contains("cargo xtask setup"), "{err}");
    }
}
