//! Denoise presets (`presets/denoise/*.toml`): how `latentforge watch` treats a renderer's
//! output folder: which files are frames, where their passes are, how long to let a frame settle
//! and to wait for late passes, where outputs go. Command-line flags override each value.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{read_toml, Preset, PresetError};

/// What to do with a frame whose side-file passes have not all arrived in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MissingPasses {
    /// Denoise from colour alone, with a warning.
    ColorOnly,
    /// Record the frame as failed.
    Fail,
}

/// Colour range of the frames, when the file format does not say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Range {
    /// From the file format (EXR/PFM/HDR linear, PNG/integer TIFF sRGB).
    Auto,
    Hdr,
    Ldr,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenoisePreset {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// File extensions (without the dot) that are frames.
    pub extensions: Vec<String>,
    /// A file must keep its size and time this long, and decode, before it is taken.
    pub settle_ms: u64,
    /// Side file of the albedo pass (`{stem}_albedo.{ext}`); none when passes are in the file.
    #[serde(default)]
    pub albedo_pattern: Option<String>,
    /// Side file of the normal pass.
    #[serde(default)]
    pub normal_pattern: Option<String>,
    /// How long a frame waits for side-file passes once it is complete.
    pub passes_timeout_s: f64,
    pub missing_passes: MissingPasses,
    /// Suffix of outputs written beside their inputs (when no output folder is given).
    pub suffix: String,
    pub range: Range,
    /// Largest image a frame's header may claim, in pixels (default 16384 x 16384); `--max-pixels`
    /// overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pixels: Option<u64>,
    /// Temporal mode with this window (frames each output depends on, 1..=64); absent: each
    /// frame on its own. `--temporal` / `--window` override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal_window: Option<usize>,
}

impl Preset for DenoisePreset {
    fn load(path: &Path) -> Result<Self, PresetError> {
        let preset: DenoisePreset = read_toml(path)?;
        let invalid = |reason: String| PresetError::Invalid { path: path.into(), reason };
        if preset.name.trim().is_empty() {
            return Err(invalid("`name` must not be empty".into()));
        }
        if preset.extensions.is_empty() || preset.extensions.iter().any(|e| e.is_empty() || e.contains('.')) {
            return Err(invalid("`extensions` must list file extensions without the dot, e.g. [\"exr\"]".into()));
        }
        if preset.suffix.is_empty() || preset.suffix.contains('/') {
            return Err(invalid("`suffix` must be a non-empty file-name suffix such as \"_dn\"".into()));
        }
        if preset.temporal_window.is_some_and(|k| !(1..=64).contains(&k)) {
            return Err(invalid("temporal_window must be 1 to 64 frames".into()));
        }
        if preset.max_pixels == Some(0) {
            return Err(invalid("max_pixels must be at least 1".into()));
        }
        if !(preset.passes_timeout_s.is_finite() && preset.passes_timeout_s >= 0.0) {
            return Err(invalid(format!("passes_timeout_s = {} must be 0 or more seconds", preset.passes_timeout_s)));
        }
        Ok(preset)
    }

    fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::super::find;
    use super::*;

    const GOOD: &str = r#"
name = "Test"
extensions = ["exr", "png"]
settle_ms = 300
albedo_pattern = "{stem}_albedo.{ext}"
passes_timeout_s = 5
missing_passes = "color-only"
suffix = "_dn"
range = "auto"
"#;

    #[test]
    fn presets_load_and_bad_ones_name_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("good.toml"), GOOD).unwrap();
        let p: DenoisePreset = find(dir.path(), "test").unwrap();
        assert_eq!((p.settle_ms, p.missing_passes, p.normal_pattern), (300, MissingPasses::ColorOnly, None));

        fs::write(dir.path().join("typo.toml"), GOOD.replace("settle_ms", "setle_ms")).unwrap();
        let e = crate::error_chain(&DenoisePreset::load(&dir.path().join("typo.toml")).unwrap_err());
        assert!(e.contains("typo.toml") && e.contains("setle_ms") && e.contains("line 4"), "{e}");

        fs::write(dir.path().join("value.toml"), GOOD.replace("\"color-only\"", "\"maybe\"")).unwrap();
        let e = crate::error_chain(&DenoisePreset::load(&dir.path().join("value.toml")).unwrap_err());
        assert!(e.contains("value.toml") && (e.contains("missing_passes") || e.contains("maybe")), "{e}");

        fs::write(dir.path().join("ext.toml"), GOOD.replace("[\"exr\", \"png\"]", "[\".exr\"]")).unwrap();
        let e = crate::error_chain(&DenoisePreset::load(&dir.path().join("ext.toml")).unwrap_err());
        assert!(e.contains("ext.toml") && e.contains("extensions"), "{e}");

        fs::write(dir.path().join("big.toml"), format!("{GOOD}max_pixels = 1000000000\n")).unwrap();
        assert_eq!(DenoisePreset::load(&dir.path().join("big.toml")).unwrap().max_pixels, Some(1_000_000_000));
        fs::write(dir.path().join("zero.toml"), format!("{GOOD}max_pixels = 0\n")).unwrap();
        let e = crate::error_chain(&DenoisePreset::load(&dir.path().join("zero.toml")).unwrap_err());
        assert!(e.contains("zero.toml") && e.contains("max_pixels"), "{e}");
        // A preset is read through a byte cap: a huge file is refused without reading it all.
        fs::write(dir.path().join("huge.toml"), format!("{GOOD}{}", "#".repeat(2 << 20))).unwrap();
        let e = crate::error_chain(&DenoisePreset::load(&dir.path().join("huge.toml")).unwrap_err());
        assert!(e.contains("huge.toml") && e.contains("byte limit for a preset"), "{e}");
        fs::write(dir.path().join("window.toml"), format!("{GOOD}temporal_window = 0\n")).unwrap();
        let e = crate::error_chain(&DenoisePreset::load(&dir.path().join("window.toml")).unwrap_err());
        assert!(e.contains("window.toml") && e.contains("temporal_window"), "{e}");
    }

    #[test]
    fn factory_presets_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/denoise");
        let (ok, bad) = super::super::load_dir::<DenoisePreset>(&dir);
        assert!(bad.is_empty(), "{bad:?}");
        let names: Vec<&str> = ok.iter().map(|p| p.name.as_str()).collect();
        assert!(names.contains(&"Blender Cycles") && names.contains(&"Generic"), "{names:?}");
    }
}
