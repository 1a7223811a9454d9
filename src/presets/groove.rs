//! Groove presets (`presets/groove/*.toml`): a named starting point for every groove knob.
//!
//! A preset is a base, not a lock: [`GrooveSettings::relative_to`] adds each knob's distance from
//! its default to the preset's value, so with the knobs at their defaults you hear exactly the
//! preset and every knob still moves away from it. The plugin and `latentforge groove --preset`
//! use the same rule.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{read_toml, Preset, PresetError};
use crate::drums::KitKnobs;
use crate::groove::{Feel, GrooveKnobs, BPM_RANGE, MACROS};

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
        let rel =
            |knob: f32, def: f32, base: f32, lo: f32, hi: f32| (base + (finite_or(knob, def) - def)).clamp(lo, hi);
        let seed = |knob: u32, def: u32, base: u32| {
            ((base as i64 + knob as i64 - def as i64).rem_euclid(MAX_SEED as i64 + 1)) as u32
        };
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
        GrooveKnobs {
            seed: self.seed as u64,
            variation: self.variation,
            macros: self.macros,
            temperature: self.temperature,
        }
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

    /// What is out of range, if anything.
    fn problem(&self) -> Option<String> {
        let unit = [
            ("density", self.density),
            ("swing", self.swing),
            ("humanize_timing", self.humanize_timing),
            ("humanize_velocity", self.humanize_velocity),
            ("kit_timbre", self.kit_timbre),
        ];
        for (name, v) in unit {
            if !(0.0..=1.0).contains(&v) {
                return Some(format!("{name} = {v} is outside 0..1"));
            }
        }
        if !(0.0..=2.0).contains(&self.temperature) {
            return Some(format!("temperature = {} is outside 0..2", self.temperature));
        }
        if let Some(m) = self.macros.iter().find(|m| !(-1.0..=1.0).contains(*m)) {
            return Some(format!("macro value {m} is outside -1..1"));
        }
        if self.seed > MAX_SEED || self.kit_seed > MAX_SEED {
            return Some(format!("seeds must be 0..={MAX_SEED}"));
        }
        None
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

impl Preset for GroovePreset {
    fn load(path: &Path) -> Result<Self, PresetError> {
        let preset: GroovePreset = read_toml(path)?;
        let invalid = |reason: String| PresetError::Invalid { path: path.into(), reason };
        if let Some(problem) = preset.settings.problem() {
            return Err(invalid(problem));
        }
        if preset.name.trim().is_empty() {
            return Err(invalid("`name` must not be empty".into()));
        }
        if !BPM_RANGE.contains(&preset.bpm) {
            return Err(invalid(format!("bpm = {} is outside {}..{}", preset.bpm, BPM_RANGE.start(), BPM_RANGE.end())));
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

    use super::super::{find, load_dir};
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
        let mut k = GrooveSettings { density: 0.6, seed: 3, ..GrooveSettings::default() };
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
        let (ok, bad) = load_dir::<GroovePreset>(dir.path());
        assert_eq!(ok.len(), 1);
        assert_eq!(bad.len(), 3);
        let msgs: Vec<String> = bad.iter().map(|e| crate::error_chain(e)).collect();
        assert!(msgs[0].contains("b-syntax.toml"));
        assert!(msgs[1].contains("c-range.toml") && msgs[1].contains("density"));
        assert!(msgs[2].contains("d-typo.toml") && msgs[2].contains("swnig"));
        assert_eq!(find::<GroovePreset>(dir.path(), "test").unwrap().name, "Test");
        assert_eq!(find::<GroovePreset>(dir.path(), "a-good").unwrap().name, "Test");
        let e = find::<GroovePreset>(dir.path(), "nope").unwrap_err().to_string();
        assert!(e.contains("a-good") && e.contains("nope"), "{e}");
    }
}
