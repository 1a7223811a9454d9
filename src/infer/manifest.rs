//! Model manifests (`models/<name>/model.toml`) and the checks that tie an ONNX file to them.
//!
//! A model is only used after its file matches the manifest: size (catches truncated copies),
//! sha256 (catches a wrong or edited file) and, once a session exists, the graph's input and
//! output names, element types and fixed dimensions.

use std::fs;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::runtime::{Device, Runtime, RuntimeError, SharedSession};
use crate::io::digest::sha256_file;
use crate::io::limits::{read_text_bounded, ProbeError, MAX_TEXT_BYTES};

pub const MANIFEST_FILE: &str = "model.toml";
pub const MODELS_ENV: &str = "LATENTFORGE_MODELS";

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: cannot read the model manifest")]
    Read {
        path: PathBuf,
        #[source]
        source: ProbeError,
    },
    #[error("{path}: invalid model manifest")]
    Toml {
        path: PathBuf,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("{path}: invalid model manifest: [{table}]")]
    Table {
        path: PathBuf,
        table: String,
        #[source]
        source: Box<toml::de::Error>,
    },
    /// What a check of ours found wrong in a manifest that parsed.
    #[error("{path}: invalid model manifest: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("{path}: cannot read the model file")]
    FileRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: model file is missing; restore it with `git checkout -- {path}`")]
    FileMissing { path: PathBuf },
    #[error("{path}: model file is {actual} bytes but its manifest says {expected}; the file is truncated or replaced, restore it with `git checkout -- {path}`")]
    Size { path: PathBuf, expected: u64, actual: u64 },
    #[error("{path}: sha256 {actual} does not match the manifest's {expected}; the file is corrupt or from another version, restore it with `git checkout -- {path}`")]
    Hash { path: PathBuf, expected: String, actual: String },
    #[error("{path}: the graph does not match model.toml: {reason}")]
    Signature { path: PathBuf, reason: String },
    #[error("no model named `{name}` in {dir} (available: {available})")]
    Unknown { name: String, dir: PathBuf, available: String },
    #[error("no models folder found (looked in: {searched}); pass --models DIR or set LATENTFORGE_MODELS")]
    NoModelsDir { searched: String },
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// One tensor of the model's signature. `-1` in `shape` marks a dynamic axis.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TensorSpec {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<i64>,
    /// Expected value range after the engine's transfer function, for documentation and checks.
    pub range: [f32; 2],
    #[serde(default)]
    pub channels: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainingData {
    pub name: String,
    pub license: String,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub name: String,
    pub task: String,
    pub version: String,
    pub description: String,
    pub file: String,
    pub sha256: String,
    pub size_bytes: u64,
    /// Transfer function applied to HDR colour before the network and inverted after.
    pub transfer: String,
    pub inputs: Vec<TensorSpec>,
    pub outputs: Vec<TensorSpec>,
    #[serde(default)]
    pub training_data: Vec<TrainingData>,
    /// The capability's own tables (`[denoise]`, `[groove]`, …), read with
    /// [`ModelEntry::task_table`].
    #[serde(flatten)]
    pub tables: toml::Table,
}

/// A manifest together with where it lives.
#[derive(Debug, Clone)]
pub struct ModelEntry {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl ModelEntry {
    pub fn onnx_path(&self) -> PathBuf {
        self.dir.join(&self.manifest.file)
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.dir.join(MANIFEST_FILE)
    }

    /// An error naming this model's manifest and what is wrong with it.
    pub fn invalid(&self, reason: impl Into<String>) -> ModelError {
        ModelError::Manifest { path: self.manifest_path(), reason: reason.into() }
    }

    /// The capability's own table of `model.toml` (`[groove]` for `table = "groove"`), as `T`.
    pub fn task_table<T: DeserializeOwned>(&self, table: &str) -> Result<T, ModelError> {
        let value = self.manifest.tables.get(table).ok_or_else(|| self.invalid(format!("missing [{table}] table")))?;
        let table =
            |source| ModelError::Table { path: self.manifest_path(), table: table.into(), source: Box::new(source) };
        value.clone().try_into().map_err(table)
    }

    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        let path = dir.join(MANIFEST_FILE);
        let text = read_text_bounded(&path, MAX_TEXT_BYTES, "a model manifest")
            .map_err(|source| ModelError::Read { path: path.clone(), source })?;
        let manifest: Manifest = toml::from_str(&text)
            .map_err(|source| ModelError::Toml { path: path.clone(), source: Box::new(source) })?;
        if manifest.file.contains('/') || manifest.file.contains("..") {
            return Err(ModelError::Manifest { path, reason: "`file` must be a plain file name".into() });
        }
        Ok(ModelEntry { dir: dir.to_path_buf(), manifest })
    }

    /// Size and hash check of the ONNX file; cheap enough to run on every load (a few MB).
    pub fn verify_file(&self) -> Result<(), ModelError> {
        let path = self.onnx_path();
        let meta = fs::metadata(&path).map_err(|_| ModelError::FileMissing { path: path.clone() })?;
        if meta.len() != self.manifest.size_bytes {
            return Err(ModelError::Size { path, expected: self.manifest.size_bytes, actual: meta.len() });
        }
        let actual = sha256_file(&path).map_err(|source| ModelError::FileRead { path: path.clone(), source })?;
        if !actual.eq_ignore_ascii_case(&self.manifest.sha256) {
            return Err(ModelError::Hash { path, expected: self.manifest.sha256.clone(), actual });
        }
        Ok(())
    }

    /// Verifies the file, opens a session and checks its signature: the one way a model is used.
    pub fn open(&self, runtime: &Runtime) -> Result<(SharedSession, Device), ModelError> {
        self.verify_file()?;
        let (session, device) = runtime.session(&self.onnx_path())?;
        self.verify_signature(&session.lock().unwrap_or_else(|p| p.into_inner()))?;
        Ok((session, device))
    }

    /// Compares the graph's signature, as ONNX Runtime reports it, with the manifest.
    pub fn verify_signature(&self, session: &ort::session::Session) -> Result<(), ModelError> {
        let path = self.onnx_path();
        let fail = |reason: String| ModelError::Signature { path: path.clone(), reason };
        let check = |kind: &str, specs: &[TensorSpec], outlets: Vec<(String, ort::value::ValueType)>| {
            if specs.len() != outlets.len() {
                return Err(fail(format!("{} {kind}s in the graph, {} in the manifest", outlets.len(), specs.len())));
            }
            for (spec, (name, ty)) in specs.iter().zip(outlets) {
                if spec.name != name {
                    return Err(fail(format!("{kind} `{name}` where the manifest says `{}`", spec.name)));
                }
                let ort::value::ValueType::Tensor { ty, shape, .. } = ty else {
                    return Err(fail(format!("{kind} `{name}` is not a tensor")));
                };
                let dtype = dtype_name(ty);
                if dtype != spec.dtype {
                    return Err(fail(format!("{kind} `{name}` is {dtype}, manifest says {}", spec.dtype)));
                }
                let dims: Vec<i64> = shape.iter().copied().collect();
                if !shape_matches(&spec.shape, &dims) {
                    return Err(fail(format!("{kind} `{name}` has shape {dims:?}, manifest says {:?}", spec.shape)));
                }
            }
            Ok(())
        };
        let ins = session.inputs().iter().map(|o| (o.name().to_string(), o.dtype().clone())).collect();
        let outs = session.outputs().iter().map(|o| (o.name().to_string(), o.dtype().clone())).collect();
        check("input", &self.manifest.inputs, ins)?;
        check("output", &self.manifest.outputs, outs)
    }
}

fn dtype_name(ty: ort::value::TensorElementType) -> String {
    use ort::value::TensorElementType as T;
    match ty {
        T::Float32 => "float32".into(),
        T::Float16 => "float16".into(),
        T::Int64 => "int64".into(),
        T::Int32 => "int32".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// `-1` in either shape matches anything; fixed sizes must agree.
pub fn shape_matches(manifest: &[i64], graph: &[i64]) -> bool {
    manifest.len() == graph.len() && manifest.iter().zip(graph).all(|(m, g)| *m < 0 || *g < 0 || m == g)
}

/// The models folder: every subfolder with a `model.toml` is a model.
#[derive(Debug, Clone)]
pub struct ModelStore {
    pub dir: PathBuf,
}

impl ModelStore {
    /// `explicit` (a `--models` flag), then `LATENTFORGE_MODELS`, then this checkout's `models/`,
    /// then `models/` beside the executable.
    pub fn locate(explicit: Option<&Path>) -> Result<Self, ModelError> {
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(p) = explicit {
            candidates.push(p.to_path_buf());
        }
        if let Some(p) = std::env::var_os(MODELS_ENV).filter(|v| !v.is_empty()) {
            candidates.push(PathBuf::from(p));
        }
        if let Some(root) = super::release_root() {
            candidates.push(root.join("models"));
        }
        candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("models"));
        if let Some(dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
            candidates.push(dir.join("models"));
        }
        // An explicit choice is never silently replaced by another folder.
        let explicit_given = explicit.is_some() || std::env::var_os(MODELS_ENV).is_some_and(|v| !v.is_empty());
        let pool = if explicit_given { &candidates[..1] } else { &candidates[..] };
        pool.iter().find(|p| p.is_dir()).map(|dir| ModelStore { dir: dir.clone() }).ok_or_else(|| {
            ModelError::NoModelsDir {
                searched: pool.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
            }
        })
    }

    /// All manifests, sorted by name. A broken manifest is returned as an error in its slot so
    /// `latentforge models` can list the good ones and name the bad one.
    pub fn list(&self) -> Vec<Result<ModelEntry, ModelError>> {
        let mut dirs: Vec<PathBuf> =
            fs::read_dir(&self.dir).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
        dirs.retain(|d| d.join(MANIFEST_FILE).is_file());
        dirs.sort();
        dirs.iter().map(|d| ModelEntry::load(d)).collect()
    }

    pub fn get(&self, name: &str) -> Result<ModelEntry, ModelError> {
        let dir = self.dir.join(name);
        if dir.join(MANIFEST_FILE).is_file() {
            return ModelEntry::load(&dir);
        }
        let available: Vec<String> = self.list().into_iter().filter_map(|m| m.ok().map(|m| m.manifest.name)).collect();
        Err(ModelError::Unknown { name: name.into(), dir: self.dir.clone(), available: available.join(", ") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest_text(file: &str, sha: &str, size: u64) -> String {
        format!(
            r#"name = "m"
task = "denoise"
version = "1"
description = "test"
file = "{file}"
sha256 = "{sha}"
size_bytes = {size}
transfer = "log1p"
[[inputs]]
name = "input"
dtype = "float32"
shape = [-1, 3, -1, -1]
range = [0.0, 12.0]
[[outputs]]
name = "output"
dtype = "float32"
shape = [-1, 3, -1, -1]
range = [0.0, 12.0]
"#
        )
    }

    #[test]
    fn shapes_with_dynamic_axes_match() {
        assert!(shape_matches(&[-1, 9, -1, -1], &[1, 9, -1, -1]));
        assert!(!shape_matches(&[-1, 9, -1, -1], &[1, 3, -1, -1]));
        assert!(!shape_matches(&[-1, 9], &[1, 9, 4]));
    }

    #[test]
    fn truncated_and_altered_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = b"pretend onnx bytes";
        fs::write(dir.path().join("m.onnx"), bytes).unwrap();
        let sha = sha256_file(&dir.path().join("m.onnx")).unwrap();
        fs::write(dir.path().join(MANIFEST_FILE), manifest_text("m.onnx", &sha, bytes.len() as u64)).unwrap();
        let entry = ModelEntry::load(dir.path()).unwrap();
        entry.verify_file().unwrap();

        fs::write(dir.path().join("m.onnx"), &bytes[..5]).unwrap();
        let err = entry.verify_file().unwrap_err().to_string();
        assert!(err.contains("m.onnx") && err.contains("truncated"), "{err}");

        fs::write(dir.path().join("m.onnx"), b"pretend onnx bytez").unwrap();
        let err = entry.verify_file().unwrap_err().to_string();
        assert!(err.contains("sha256"), "{err}");

        fs::remove_file(dir.path().join("m.onnx")).unwrap();
        assert!(matches!(entry.verify_file(), Err(ModelError::FileMissing { .. })));
    }

    #[test]
    fn bad_manifest_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(MANIFEST_FILE), "name = 3").unwrap();
        let err = ModelEntry::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("model.toml") && err.contains("invalid"), "{err}");
    }

    #[test]
    fn unknown_model_lists_the_available_ones() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m");
        fs::create_dir(&m).unwrap();
        fs::write(m.join(MANIFEST_FILE), manifest_text("m.onnx", "00", 1)).unwrap();
        let store = ModelStore { dir: dir.path().to_path_buf() };
        let err = store.get("nope").unwrap_err().to_string();
        assert!(err.contains("nope") && err.contains("available: m"), "{err}");
    }
}
