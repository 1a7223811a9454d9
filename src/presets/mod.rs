//! Presets: named TOML files that set a capability's knobs (`presets/<capability>/*.toml`).
//! Each capability's preset type implements [`Preset`]; loading a folder, finding one by name and
//! the errors that name the broken file are shared here.

use std::fs;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::io::limits::{read_text_bounded, ProbeError, MAX_TEXT_BYTES};

pub mod denoise;
pub mod groove;
pub mod texture;

pub use denoise::DenoisePreset;
pub use groove::{GroovePreset, GrooveSettings, MAX_SEED};
pub use texture::TexturePreset;

#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    #[error("{path}: cannot read preset")]
    Read {
        path: PathBuf,
        #[source]
        source: ProbeError,
    },
    #[error("{path}: invalid preset")]
    Toml {
        path: PathBuf,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("{dir}: cannot list the preset folder")]
    ListFolder {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// What a check of ours found wrong in a preset that parsed.
    #[error("{path}: invalid preset: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("no preset named `{name}` in {dir} (available: {available})")]
    Unknown { name: String, dir: PathBuf, available: String },
}

/// A preset file of one capability.
pub trait Preset: Sized + Clone {
    /// Reads and checks one file; errors name it.
    fn load(path: &Path) -> Result<Self, PresetError>;
    /// The name users pick it by (besides its file stem).
    fn name(&self) -> &str;
}

/// Parses a TOML preset file; a syntax error or unknown key names the file, line and key.
pub fn read_toml<T: DeserializeOwned>(path: &Path) -> Result<T, PresetError> {
    let text = read_text_bounded(path, MAX_TEXT_BYTES, "a preset")
        .map_err(|source| PresetError::Read { path: path.into(), source })?;
    toml::from_str(&text).map_err(|source| PresetError::Toml { path: path.into(), source: Box::new(source) })
}

/// Every `*.toml` preset in `dir`, sorted by file name, and the files that failed (each error
/// names its file), so a front end can skip a broken preset and say why.
pub fn load_dir<T: Preset>(dir: &Path) -> (Vec<T>, Vec<PresetError>) {
    let mut paths: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(rd) => {
            rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "toml")).collect()
        }
        Err(source) => return (Vec::new(), vec![PresetError::ListFolder { dir: dir.into(), source }]),
    };
    paths.sort();
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for p in paths {
        match T::load(&p) {
            Ok(preset) => ok.push(preset),
            Err(e) => bad.push(e),
        }
    }
    (ok, bad)
}

/// A preset by file stem or by name (case-insensitive), e.g. `--preset four-on-the-floor`.
pub fn find<T: Preset>(dir: &Path, name: &str) -> Result<T, PresetError> {
    let file = dir.join(format!("{name}.toml"));
    if file.is_file() {
        return T::load(&file);
    }
    let (presets, _) = load_dir::<T>(dir);
    if let Some(p) = presets.iter().find(|p| p.name().eq_ignore_ascii_case(name)) {
        return Ok(p.clone());
    }
    let mut available: Vec<String> = fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()?.path().file_stem()?.to_str().map(String::from)).collect())
        .unwrap_or_default();
    available.sort();
    Err(PresetError::Unknown { name: name.into(), dir: dir.into(), available: available.join(", ") })
}
