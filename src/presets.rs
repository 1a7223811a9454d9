//! Groove presets (`presets/groove/*.toml`): a named starting point for every groove knob.
//!
//! A preset is a base, not a lock: [`GrooveSettings::relative_to`] adds each knob's distance from
//! its default to the preset's value, so with the knobs at their defaults you hear exactly the
//! preset and every knob still moves away from it. The plugin and `latentforge groove --preset`
//! use the same rule.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::drums::KitKnobs;
use crate::groove::{Feel, GrooveKnobs, MACROS};

#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    #[error("{path}: cannot read preset: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path}: invalid preset: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("no preset named `{name}` in {dir} (available: {available})")]
    Unknown { name: String, dir: PathBuf, available: String },
}

/// Every knob of a groove, as plain values. Ranges are those of the plugin's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrooveSettings {
    /// 0..=9999
    pub seed: u32,
    pub variation: u32,
    /// Each -1..1.
    pub macros: [f32; MACROS],
    /// 0..2
    pub temperature: f32,
    /// 0..1
    pub density: f32,
    /// 0..1
    pub swing: f32,
    /// 0..1
    pub humanize_timing: f32,
    /// 0..1
    pub humanize_velocity: f32,
    /// 0..=9999
    pub kit_seed: u32,
    /// 0..1
    pub kit_timbre: f32,
}

pub const MAX_SEED: u32 = 9999;

impl Default for GrooveSettings {
    fn default() -> Self {
        GrooveSettings {
            seed: 1,
            variation: 0,
            macros: [0.0; MACROS],
            temperature: 1.0,
            density: 0.5,
            swing: 0.0,
            humanize_timing: 1.0,
            humanize_velocity: 1.0,
            kit_seed: 1,
            kit_timbre: 0.0,
        }
    }
}

fn finite_or(v: f32, default: f32) -> f32 {
    if v.is_finite() {
        v
    } else {
        default
    }
}

impl GrooveSettings {
    /// These knob values taken relative to `preset`: preset + (knob − default), clamped.
    pub fn relative_to(&self, preset: &GrooveSettings) -> GrooveSettings {
        let d = GrooveSettings::default();
        // (knob - default) first: a knob at its default adds exactly zero.
        let rel = |knob: f32, def: f32, base: f32, lo: f32, hi: f32| (base + (finite_or(knob, def) - def)).clamp(lo, hi);
        let seed = |knob: u32, def: u32, base: u32| ((base as i64 + knob as i64 - def as i64).rem_euclid(MAX_SEED as i64 + 1)) as u32;
        GrooveSettings {
            seed: seed(self.seed, d.seed, preset.seed),
            variation: preset.variation.wrapping_add(self.variation),
            macros: std::array::from_fn(|i| rel(self.macros[i], 0.0, preset.macros[i], -1.0, 1.0)),
            temperature: rel(self.temperature, d.temperature, preset.temperature, 0.0, 2.0),
            density: rel(self.density, d.density, preset.density, 0.0, 1.0),
            swing: rel(self.swing, d.swing, preset.swing, 0.0, 1.0),
            humanize_timing: rel(self.humanize_timing, d.humanize_timing, preset.humanize_timing, 0.0, 1.0),
            humanize_velocity: rel(self.humanize_velocity, d.humanize_velocity, preset.humanize_velocity, 0.0, 1.0),
            kit_seed: seed(self.kit_seed, d.kit_seed, preset.kit_seed),
            kit_timbre: rel(self.kit_timbre, d.kit_timbre, preset.kit_timbre, 0.0, 1.0),
        }
    }

    pub fn groove_knobs(&self) -> GrooveKnobs {
        GrooveKnobs { seed: self.seed as u64, variation: self.variation, macros: self.macros, temperature: self.temperature }
    }

    pub fn kit_knobs(&self) -> KitKnobs {
        KitKnobs { seed: self.kit_seed as u64, timbre: self.kit_timbre }
    }

    pub fn feel(&self) -> Feel {
        Feel {
            density: self.density,
            swing: self.swing,
            humanize_timing: self.humanize_timing,
            humanize_velocity: self.humanize_velocity,
        }
    }

    fn check(&self) -> Result<(), String> {
        let unit = [("density", self.density), ("swing", self.swing), ("humanize_timing", self.humanize_timing),
            ("humanize_velocity", self.humanize_velocity), ("kit_timbre", self.kit_timbre)];
        for (name, v) in unit {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} = {v} is outside 0..1"));
            }
        }
        if !(0.0..=2.0).contains(&self.temperature) {
            return Err(format!("temperature = {} is outside 0..2", self.temperature));
        }
        if let Some(m) = self.macros.iter().find(|m| !(-1.0..=1.0).contains(*m)) {
            return Err(format!("macro value {m} is outside -1..1"));
        }
        if self.seed > MAX_SEED || self.kit_seed > MAX_SEED {
            return Err(format!("seeds must be 0..={MAX_SEED}"));
        }
        Ok(())
    }
}

/// A preset file: a name, a line for humans, a tempo for offline renders, and the knobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroovePreset {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Tempo the CLI renders at when `--bpm` is not given.
    #[serde(default = "default_bpm")]
    pub bpm: f64,
    pub settings: GrooveSettings,
}

fn default_bpm() -> f64 {
    120.0
}

impl GroovePreset {
    pub fn load(path: &Path) -> Result<Self, PresetError> {
        let text = fs::read_to_string(path).map_err(|e| PresetError::Read { path: path.into(), reason: e.to_string() })?;
        let invalid = |reason: String| PresetError::Invalid { path: path.into(), reason };
        let preset: GroovePreset = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        preset.settings.check().map_err(invalid)?;
        if preset.name.trim().is_empty() {
            return Err(invalid("`name` must not be empty".into()));
        }
        if !(20.0..=400.0).contains(&preset.bpm) {
            return Err(invalid(format!("bpm = {} is outside 20..400", preset.bpm)));
        }
        Ok(preset)
    }
}

/// Every `*.toml` preset in `dir`, sorted by file name, and the files that failed (each error
/// names its file), so a front end can skip a broken preset and say why.
pub fn load_dir(dir: &Path) -> (Vec<GroovePreset>, Vec<PresetError>) {
    let mut paths: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "toml")).collect(),
        Err(e) => return (Vec::new(), vec![PresetError::Read { path: dir.into(), reason: e.to_string() }]),
    };
    paths.sort();
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for p in paths {
        match GroovePreset::load(&p) {
            Ok(preset) => ok.push(preset),
            Err(e) => bad.push(e),
        }
    }
    (ok, bad)
}

/// A preset by file stem or by name (case-insensitive), e.g. `--preset four-on-the-floor`.
pub fn find(dir: &Path, name: &str) -> Result<GroovePreset, PresetError> {
    let file = dir.join(format!("{name}.toml"));
    if file.is_file() {
        return GroovePreset::load(&file);
    }
    let (presets, _) = load_dir(dir);
    if let Some(p) = presets.iter().find(|p| p.name.eq_ignore_ascii_case(name)) {
        return Ok(p.clone());
    }
    let mut available: Vec<String> = fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()?.path().file_stem()?.to_str().map(String::from)).collect())
        .unwrap_or_default();
    available.sort();
    Err(PresetError::Unknown { name: name.into(), dir: dir.into(), available: available.join(", ") })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "Test"
bpm = 96
[settings]
seed = 12
variation = 0
macros = [0.5, 0, 0, 0, 0, 0, 0, -0.25]
temperature = 0.8
density = 0.6
swing = 0.3
humanize_timing = 1.0
humanize_velocity = 0.7
kit_seed = 4
kit_timbre = 0.5
"#;

    #[test]
    fn knobs_at_default_give_the_preset_and_move_from_it() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("good.toml"), GOOD).unwrap();
        let p = GroovePreset::load(&dir.path().join("good.toml")).unwrap();
        assert_eq!(GrooveSettings::default().relative_to(&p.settings), p.settings);
        let mut k = GrooveSettings::default();
        k.density = 0.6;
        k.seed = 3;
        k.macros[0] = 1.0;
        let e = k.relative_to(&p.settings);
        assert!((e.density - 0.7).abs() < 1e-6);
        assert_eq!(e.seed, 14);
        assert_eq!(e.macros[0], 1.0, "clamped");
        k.density = f32::NAN;
        assert!(k.relative_to(&p.settings).density.is_finite());
    }

    #[test]
    fn broken_presets_are_reported_by_file_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a-good.toml"), GOOD).unwrap();
        fs::write(dir.path().join("b-syntax.toml"), "name = \"x\"\n[settings\n").unwrap();
        fs::write(dir.path().join("c-range.toml"), GOOD.replace("density = 0.6", "density = 4.0")).unwrap();
        fs::write(dir.path().join("d-typo.toml"), GOOD.replace("swing", "swnig")).unwrap();
        let (ok, bad) = load_dir(dir.path());
        assert_eq!(ok.len(), 1);
        assert_eq!(bad.len(), 3);
        let msgs: Vec<String> = bad.iter().map(|e| e.to_string()).collect();
        assert!(msgs[0].contains("b-syntax.toml"));
        assert!(msgs[1].contains("c-range.toml") && msgs[1].contains("density"));
        assert!(msgs[2].contains("d-typo.toml") && msgs[2].contains("swnig"));
        assert_eq!(find(dir.path(), "test").unwrap().name, "Test");
        assert_eq!(find(dir.path(), "a-good").unwrap().name, "Test");
        let e = find(dir.path(), "nope").unwrap_err().to_string();
        assert!(e.contains("a-good") && e.contains("nope"), "{e}");
    }
}
