//! Texture presets (`presets/textures/*.toml`): a material with the knobs that suit it, for
//! `latentforge texture --preset NAME`. Flags override each value.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{read_toml, Preset, PresetError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TexturePreset {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A material class of the texture model.
    pub material: String,
    /// 0..1: 0 = the material's average look, 1 = as varied as the training data.
    pub truncation: f32,
    /// Side in pixels (square) when `--size` is not given.
    pub size: usize,
    /// Write height, normal and roughness maps too.
    #[serde(default)]
    pub pbr: bool,
    /// Slope scale of the normal map.
    #[serde(default = "default_strength")]
    pub normal_strength: f32,
}

fn default_strength() -> f32 {
    1.0
}

impl Preset for TexturePreset {
    fn load(path: &Path) -> Result<Self, PresetError> {
        let p: TexturePreset = read_toml(path)?;
        let invalid = |reason: String| PresetError::Invalid { path: path.into(), reason };
        if p.name.trim().is_empty() || p.material.trim().is_empty() {
            return Err(invalid("`name` and `material` must not be empty".into()));
        }
        if !(0.0..=1.0).contains(&p.truncation) {
            return Err(invalid(format!("truncation = {} is outside 0..1", p.truncation)));
        }
        if !(p.normal_strength.is_finite() && p.normal_strength > 0.0) {
            return Err(invalid(format!("normal_strength = {} must be above 0", p.normal_strength)));
        }
        Ok(p)
    }

    fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factory_texture_presets_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/textures");
        let (ok, bad) = super::super::load_dir::<TexturePreset>(&dir);
        assert!(bad.is_empty(), "{bad:?}");
        assert!(ok.len() >= 3 && ok.iter().all(|p| p.size >= 16), "{ok:?}");
    }
}
