//! The saved state a host hands back: whatever a project file holds, so it is checked before
//! nice-plug applies it. A state from a newer Latent Groove loads defaults; an unreadable
//! `groove-state` is dropped; parameter values outside their ranges (or of the wrong type) are
//! clamped or reset. Each load that needed any of this says so in one log line. (A state that is
//! not JSON at all, is truncated, or is over nice-plug's 256 MiB cap never reaches here: nice-plug
//! refuses it with its own log line and the plugin keeps the state it has, the defaults for a
//! project being opened.)

use nice_plug::params::internals::ParamPtr;
use nice_plug::plugin::ParamValue;
use nice_plug::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use crate::edits::EditLayer;
use crate::history::History;
use crate::GrooveParams;

/// The editor window's size when first opened, and the smallest and largest it may be saved at
/// (logical pixels; the editor's layout is drawn for these).
pub const DEFAULT_SIZE: (u32, u32) = (1040, 660);
pub const MIN_SIZE: (u32, u32) = (820, 560);
pub const MAX_SIZE: (u32, u32) = (3200, 2000);

/// Version of the extra state saved beside the parameters (`groove-state`).
pub const STATE_VERSION: u32 = 1;
/// Longest latent a state may carry (the groove model's is 32).
const MAX_LATENT: usize = 1024;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SavedState {
    pub version: u32,
    /// The pattern latent the worker last decoded (for reference and tools; the knobs and
    /// the variation reproduce it).
    #[serde(default)]
    pub latent: Vec<f32>,
}

impl Default for SavedState {
    fn default() -> Self {
        SavedState { version: STATE_VERSION, latent: Vec::new() }
    }
}

/// Makes `state` safe to apply; returns what was wrong with it, if anything, for one log line.
pub fn sanitize(state: &mut PluginState) -> Option<String> {
    let mut problems = Vec::new();
    if let Some(raw) = state.fields.get("groove-state") {
        match serde_json::from_str::<SavedState>(raw) {
            Ok(saved) if saved.version > STATE_VERSION => {
                problems.push(format!(
                    "saved by a newer Latent Groove (state version {}); loading defaults",
                    saved.version
                ));
                reset_to_defaults(state);
                return Some(problems.join("; "));
            }
            Ok(saved) if saved.latent.len() > MAX_LATENT || saved.latent.iter().any(|v| !v.is_finite()) => {
                problems.push("a damaged groove latent, dropped".to_string());
                state.fields.remove("groove-state");
            }
            Ok(_) => {}
            Err(_) => {
                problems.push("an unreadable groove-state, dropped (variation 0)".to_string());
                state.fields.remove("groove-state");
            }
        }
    }
    if let Some(raw) = state.fields.get("variation") {
        if serde_json::from_str::<u32>(raw).is_err() {
            problems.push("an unreadable variation, dropped".to_string());
            state.fields.remove("variation");
        }
    }
    check_field::<EditLayer>(state, "edits", "edit layer", &mut problems, |e| e);
    check_field::<History>(state, "history", "variation history", &mut problems, History::sanitized);
    check_field::<EditorSettings>(state, "editor", "editor settings", &mut problems, EditorSettings::sanitized);
    let defaults = GrooveParams::new(Default::default());
    let mut fixed = 0;
    for (id, ptr, _) in defaults.param_map() {
        let Some(value) = state.params.get_mut(&id) else { continue };
        if let Some(v) = in_range(ptr, value) {
            *value = v;
            fixed += 1;
        }
    }
    if fixed > 0 {
        problems.push(format!("{fixed} parameter values out of range or of the wrong type, clamped"));
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// Drops saved field `key` when it does not parse as a `T`, else stores it repaired by `repair`.
fn check_field<T: serde::Serialize + serde::de::DeserializeOwned>(
    state: &mut PluginState,
    key: &str,
    what: &str,
    problems: &mut Vec<String>,
    repair: impl FnOnce(T) -> T,
) {
    let Some(raw) = state.fields.get(key) else { return };
    match serde_json::from_str::<T>(raw) {
        Ok(value) => {
            if let Ok(fixed) = serde_json::to_string(&repair(value)) {
                state.fields.insert(key.to_string(), fixed);
            }
        }
        Err(_) => {
            problems.push(format!("an unreadable {what}, dropped"));
            state.fields.remove(key);
        }
    }
}

/// `value` brought into `ptr`'s range and type, or `None` when it already is. A NaN, or a value
/// of the wrong type, becomes the default.
fn in_range(ptr: ParamPtr, value: &ParamValue) -> Option<ParamValue> {
    // SAFETY: `ptr` points into the `GrooveParams` the caller holds for this call.
    let (min, max, default) = unsafe { (ptr.preview_plain(0.0), ptr.preview_plain(1.0), ptr.default_plain_value()) };
    // Only values outside the range move: a round trip through the normalised value is not exact.
    let plain = |v: f32| if v.is_nan() { default } else { v.clamp(min.min(max), max.max(min)) };
    let fixed = match (ptr, value) {
        (ParamPtr::FloatParam(_), ParamValue::F32(v)) => ParamValue::F32(plain(*v)),
        (ParamPtr::IntParam(_) | ParamPtr::EnumParam(_), ParamValue::I32(v)) => {
            ParamValue::I32(plain(*v as f32).round() as i32)
        }
        (ParamPtr::BoolParam(_), ParamValue::Bool(_)) | (ParamPtr::EnumParam(_), ParamValue::String(_)) => return None,
        (ParamPtr::FloatParam(_), _) => ParamValue::F32(default),
        (ParamPtr::IntParam(_) | ParamPtr::EnumParam(_), _) => ParamValue::I32(default.round() as i32),
        (ParamPtr::BoolParam(_), _) => ParamValue::Bool(default >= 0.5),
    };
    (!same(&fixed, value)).then_some(fixed)
}

fn same(a: &ParamValue, b: &ParamValue) -> bool {
    match (a, b) {
        (ParamValue::F32(x), ParamValue::F32(y)) => x.to_bits() == y.to_bits(),
        (ParamValue::I32(x), ParamValue::I32(y)) => x == y,
        (ParamValue::Bool(x), ParamValue::Bool(y)) => x == y,
        (ParamValue::String(x), ParamValue::String(y)) => x == y,
        _ => false,
    }
}

/// Every parameter at its default, and no extra fields.
fn reset_to_defaults(state: &mut PluginState) {
    let defaults = GrooveParams::new(Default::default());
    state.params.clear();
    state.fields.clear();
    for (id, ptr, _) in defaults.param_map() {
        // SAFETY: as in `in_range`.
        let default = unsafe { ptr.default_plain_value() };
        let value = match ptr {
            ParamPtr::FloatParam(_) => ParamValue::F32(default),
            ParamPtr::BoolParam(_) => ParamValue::Bool(default >= 0.5),
            _ => ParamValue::I32(default.round() as i32),
        };
        state.params.insert(id, value);
    }
    state.fields.insert("variation".into(), "0".into());
    state.fields.insert("groove-state".into(), serde_json::to_string(&SavedState::default()).expect("plain data"));
}

/// Saved with the project: the window's size, which macros the XY pad moves, and the export
/// folder and how many variations an export adds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditorSettings {
    pub width: u32,
    pub height: u32,
    pub x_macro: usize,
    pub y_macro: usize,
    #[serde(default)]
    pub export_dir: Option<PathBuf>,
    #[serde(default = "default_variations")]
    pub export_variations: u32,
}

fn default_variations() -> u32 {
    4
}

impl Default for EditorSettings {
    fn default() -> Self {
        EditorSettings {
            width: DEFAULT_SIZE.0,
            height: DEFAULT_SIZE.1,
            x_macro: 0,
            y_macro: 1,
            export_dir: None,
            export_variations: default_variations(),
        }
    }
}

impl EditorSettings {
    /// A saved state is untrusted: sizes are kept within what the layout supports.
    pub fn sanitized(self) -> EditorSettings {
        let (w, h) = MAX_SIZE;
        let macros = latentforge::groove::MACROS;
        EditorSettings {
            width: self.width.clamp(MIN_SIZE.0, w),
            height: self.height.clamp(MIN_SIZE.1, h),
            x_macro: self.x_macro.min(macros - 1),
            y_macro: self.y_macro.min(macros - 1),
            export_dir: self.export_dir.filter(|d| !d.as_os_str().is_empty()),
            export_variations: self.export_variations.min(crate::export::MAX_VARIATIONS),
        }
    }

    /// The settings now (repaired), from the shared copy.
    pub fn current(shared: &std::sync::Mutex<EditorSettings>) -> EditorSettings {
        shared.lock().map(|s| s.clone().sanitized()).unwrap_or_default()
    }

    /// Makes these the shared settings (saved with the project).
    pub fn store(&self, shared: &std::sync::Mutex<EditorSettings>) {
        if let Ok(mut s) = shared.lock() {
            *s = self.clone();
        }
    }

    pub fn export_dir(&self) -> PathBuf {
        self.export_dir.clone().unwrap_or_else(crate::export::default_dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(params: &[(&str, ParamValue)], groove_state: &str) -> PluginState {
        PluginState {
            version: "0.1.0".into(),
            params: params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            fields: [("groove-state".to_string(), groove_state.to_string())].into_iter().collect(),
        }
    }

    #[test]
    fn values_out_of_range_are_clamped_and_nan_is_the_default() {
        let mut s = state(
            &[
                ("density", ParamValue::F32(7.0)),
                ("swing", ParamValue::F32(f32::NAN)),
                ("seed", ParamValue::I32(i32::MIN)),
                ("temperature", ParamValue::Bool(true)),
                ("lock_kick", ParamValue::Bool(true)),
            ],
            r#"{"version":1,"latent":[]}"#,
        );
        let said = sanitize(&mut s).expect("a log line");
        assert!(said.contains("4 parameter values"), "{said}");
        assert!(same(&s.params["density"], &ParamValue::F32(1.0)));
        assert!(same(&s.params["swing"], &ParamValue::F32(0.0)));
        assert!(same(&s.params["seed"], &ParamValue::I32(0)));
        assert!(matches!(s.params["temperature"], ParamValue::F32(_)));
        let mut ok = state(&[("density", ParamValue::F32(0.3))], r#"{"version":1,"latent":[0.5]}"#);
        assert_eq!(sanitize(&mut ok), None, "a good state is left alone");
    }

    #[test]
    fn unreadable_editor_fields_are_dropped_and_odd_ones_repaired() {
        let mut s = state(&[], r#"{"version":1,"latent":[]}"#);
        s.fields.insert("edits".into(), r#"{"hits":"lots"}"#.into());
        s.fields.insert("history".into(), r#"{"entries":[],"current":7}"#.into());
        s.fields.insert("editor".into(), r#"{"width":100000,"height":1,"x_macro":99,"y_macro":1}"#.into());
        let said = sanitize(&mut s).expect("a log line");
        assert!(said.contains("unreadable edit layer"), "{said}");
        assert!(!s.fields.contains_key("edits"));
        let history: History = serde_json::from_str(&s.fields["history"]).unwrap();
        assert_eq!(history.current, 0);
        let editor: EditorSettings = serde_json::from_str(&s.fields["editor"]).unwrap();
        assert_eq!(editor, editor.clone().sanitized());
        assert!(editor.width < 100000 && editor.x_macro < 8);
    }

    #[test]
    fn a_state_from_the_future_loads_defaults() {
        let mut s = state(&[("density", ParamValue::F32(0.9))], r#"{"version":99,"latent":[]}"#);
        assert!(sanitize(&mut s).unwrap().contains("newer Latent Groove"));
        let defaults = GrooveParams::new(Default::default());
        assert!(same(&s.params["density"], &ParamValue::F32(defaults.density.default_plain_value())));
        assert_eq!(s.params.len(), defaults.param_map().len());
    }
}
