//! The host-visible parameters: the latent macros, seed and variation, the feel (temperature,
//! density, swing, humanize), lane locks, the kit and mix, the preset slot; and what the audio
//! thread and the worker read from them ([`GrooveParams::settings`], `mix`, `locks`).

use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, RwLock};

use latentforge::drums::Mix;
use latentforge::groove::{GROUPS, LANES, LANE_NAMES, MACROS};
use latentforge::presets::{GrooveSettings, MAX_SEED};
use nice_plug::prelude::*;

use crate::edits::{EditLayer, EditStore};
use crate::export::Exports;
use crate::history::{History, Knobs};
use crate::state::{EditorSettings, SavedState};

/// Preset slots the `preset` parameter offers (0 = none).
pub(crate) const PRESET_SLOTS: i32 = 32;

#[derive(Params)]
pub struct GrooveParams {
    #[nested(array, group = "Latent")]
    pub macros: [MacroParam; MACROS],
    #[id = "seed"]
    pub seed: IntParam,
    #[id = "new_variation"]
    pub new_variation: BoolParam,
    #[id = "temperature"]
    pub temperature: FloatParam,
    #[id = "density"]
    pub density: FloatParam,
    #[id = "humanize_timing"]
    pub humanize_timing: FloatParam,
    #[id = "humanize_velocity"]
    pub humanize_velocity: FloatParam,
    #[id = "swing"]
    pub swing: FloatParam,
    #[id = "lock_kick"]
    pub lock_kick: BoolParam,
    #[id = "lock_snare"]
    pub lock_snare: BoolParam,
    #[id = "lock_hats"]
    pub lock_hats: BoolParam,
    #[id = "lock_toms"]
    pub lock_toms: BoolParam,
    #[id = "lock_cymbals"]
    pub lock_cymbals: BoolParam,
    /// Vary the drums played into the plugin: the last 2 bars of input are encoded with the clip
    /// VAE and variations around them play instead of the knobs' groove.
    #[id = "follow"]
    pub follow: BoolParam,
    /// How far Follow's variations stray from the input, in latent standard deviations (0 plays
    /// the input back as the model heard it).
    #[id = "follow_spread"]
    pub follow_spread: FloatParam,
    #[id = "kit_seed"]
    pub kit_seed: IntParam,
    #[id = "kit_timbre"]
    pub kit_timbre: FloatParam,
    #[nested(array, group = "Mix")]
    pub levels: [LaneLevel; LANES],
    #[id = "decay"]
    pub decay: FloatParam,
    #[id = "gain"]
    pub gain: FloatParam,
    #[id = "preset"]
    pub preset: IntParam,
    /// How many times "new variation" was pressed: with the knobs it selects the groove, so a
    /// project reopens with the same one. Written by the audio thread, lock-free.
    #[persist = "variation"]
    pub variation: Arc<AtomicU32>,
    /// Format version and the latent the worker last decoded (written by the worker only).
    #[persist = "groove-state"]
    pub state: RwLock<SavedState>,
    /// Hits painted and erased over the take, lane mute and solo (the editor's edit layer).
    #[persist = "edits"]
    pub edits: EditStore,
    /// The reading end of the edit layer, taken once by the plugin for its audio thread.
    pub edits_reader: Mutex<Option<triple_buffer::Output<EditLayer>>>,
    /// The last variations and the starred ones (written by the worker and the editor).
    #[persist = "history"]
    pub history: Mutex<History>,
    /// The editor's window size, which macros the XY pad moves, the export folder.
    #[persist = "editor"]
    pub editor: Mutex<EditorSettings>,
    /// Export requests from the editor, done by the worker.
    pub exports: Exports,
}

#[derive(Params)]
pub struct MacroParam {
    #[id = "macro"]
    pub value: FloatParam,
}

/// One lane's level in the mix, on top of the kit's own balance (the real kits' loudness).
#[derive(Params)]
pub struct LaneLevel {
    #[id = "level"]
    pub value: FloatParam,
}

/// A level knob from -36 to +6 dB, shown and typed in dB.
fn gain_param(name: &str) -> FloatParam {
    FloatParam::new(
        name,
        util::db_to_gain(0.0),
        FloatRange::Skewed {
            min: util::db_to_gain(-36.0),
            max: util::db_to_gain(6.0),
            factor: FloatRange::gain_skew_factor(-36.0, 6.0),
        },
    )
    .with_smoother(SmoothingStyle::Logarithmic(20.0))
    .with_unit(" dB")
    .with_value_to_string(formatters::v2s_f32_gain_to_db(1))
    .with_string_to_value(formatters::s2v_f32_gain_to_db())
}

/// "closed_hat" -> "Closed hat".
fn lane_title(lane: &str) -> String {
    let words = lane.replace('_', " ");
    let mut chars = words.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn unit_param(name: &str, default: f32) -> FloatParam {
    FloatParam::new(name, default, FloatRange::Linear { min: 0.0, max: 1.0 })
        .with_smoother(SmoothingStyle::Linear(30.0))
        .with_value_to_string(formatters::v2s_f32_percentage(0))
        .with_string_to_value(formatters::s2v_f32_percentage())
        .with_unit("%")
}

impl GrooveParams {
    pub(crate) fn new(preset_names: Arc<Vec<String>>) -> Self {
        let lock = |name: &str| BoolParam::new(name, false);
        let (edits, edits_reader) = EditStore::new();
        GrooveParams {
            macros: std::array::from_fn(|i| MacroParam {
                value: FloatParam::new(format!("Macro {}", i + 1), 0.0, FloatRange::Linear { min: -1.0, max: 1.0 })
                    .with_smoother(SmoothingStyle::Linear(50.0))
                    .with_step_size(0.01),
            }),
            seed: IntParam::new("Seed", 1, IntRange::Linear { min: 0, max: MAX_SEED as i32 }),
            new_variation: BoolParam::new("New variation", false),
            temperature: FloatParam::new("Temperature", 1.0, FloatRange::Linear { min: 0.0, max: 2.0 })
                .with_smoother(SmoothingStyle::Linear(50.0))
                .with_step_size(0.01),
            density: unit_param("Density", 0.5),
            humanize_timing: unit_param("Humanize timing", 1.0),
            humanize_velocity: unit_param("Humanize velocity", 1.0),
            swing: unit_param("Swing", 0.0),
            lock_kick: lock("Lock kick"),
            lock_snare: lock("Lock snare"),
            lock_hats: lock("Lock hats"),
            lock_toms: lock("Lock toms"),
            lock_cymbals: lock("Lock cymbals"),
            follow: BoolParam::new("Follow input", false),
            follow_spread: FloatParam::new("Follow spread", 0.3, FloatRange::Linear { min: 0.0, max: 1.0 })
                .with_step_size(0.01),
            kit_seed: IntParam::new("Kit", 1, IntRange::Linear { min: 0, max: MAX_SEED as i32 }),
            kit_timbre: unit_param("Kit timbre", 0.0),
            levels: std::array::from_fn(|l| LaneLevel {
                value: gain_param(&format!("{} level", lane_title(LANE_NAMES[l]))),
            }),
            decay: unit_param("Decay", 1.0),
            gain: gain_param("Output gain"),
            preset: IntParam::new("Preset", 0, IntRange::Linear { min: 0, max: PRESET_SLOTS })
                .with_value_to_string({
                    let names = preset_names.clone();
                    Arc::new(move |v| match v {
                        0 => "None".to_string(),
                        v => names.get(v as usize - 1).cloned().unwrap_or_else(|| format!("{v} (empty)")),
                    })
                })
                // A host shows the name and must accept it typed back (also any case, or the slot number).
                .with_string_to_value(Arc::new(move |text| {
                    let text = text.trim();
                    if text.eq_ignore_ascii_case("none") {
                        return Some(0);
                    }
                    if let Some(i) = preset_names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
                        return Some(i as i32 + 1);
                    }
                    text.trim_end_matches("(empty)").trim().parse().ok()
                })),
            state: RwLock::new(SavedState::default()),
            variation: Arc::new(AtomicU32::new(0)),
            edits,
            edits_reader: Mutex::new(Some(edits_reader)),
            history: Mutex::new(History::default()),
            editor: Mutex::new(EditorSettings::default()),
            exports: Exports::default(),
        }
    }

    /// The groove knobs as the parameters hold them (before a preset applies): what the
    /// variation history records and sets back.
    pub(crate) fn knobs(&self) -> Knobs {
        Knobs {
            seed: self.seed.value(),
            variation: self.variation.load(std::sync::atomic::Ordering::Relaxed),
            macros: std::array::from_fn(|i| self.macros[i].value.value()),
            temperature: self.temperature.value(),
        }
    }

    /// The knob values as plain settings. Knobs that act when hits are read out (density, swing,
    /// humanize) are smoothed at block rate over `block` samples; the latent and kit knobs use
    /// their targets, since each new value costs an inference and the worker follows anyway.
    pub(crate) fn settings(&self, variation: u32, block: u32) -> GrooveSettings {
        GrooveSettings {
            seed: self.seed.value().max(0) as u32,
            variation,
            macros: std::array::from_fn(|i| self.macros[i].value.value()),
            temperature: self.temperature.value(),
            density: self.density.smoothed.next_step(block),
            swing: self.swing.smoothed.next_step(block),
            humanize_timing: self.humanize_timing.smoothed.next_step(block),
            humanize_velocity: self.humanize_velocity.smoothed.next_step(block),
            kit_seed: self.kit_seed.value().max(0) as u32,
            kit_timbre: self.kit_timbre.value(),
        }
    }

    /// The mixer knobs, as the sampler takes them.
    pub(crate) fn mix(&self) -> Mix {
        Mix { lane_gain: std::array::from_fn(|l| self.levels[l].value.value()), decay: self.decay.value() }
    }

    pub(crate) fn locks(&self) -> [bool; GROUPS] {
        [
            self.lock_kick.value(),
            self.lock_snare.value(),
            self.lock_hats.value(),
            self.lock_toms.value(),
            self.lock_cymbals.value(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every parameter accepts the text a host shows for it, at its ends and between: typing
    /// the shown text back gives the same value (shown the same way).
    #[test]
    fn every_parameter_round_trips_its_display_text() {
        let params = GrooveParams::new(Arc::new(vec!["Boom Bap".into(), "Four on the Floor".into()]));
        let map = params.param_map();
        assert!(map.len() >= 20, "{} parameters", map.len());
        for (id, ptr, _) in &map {
            // SAFETY: the pointers point into `params`, which outlives this loop.
            let (name, steps) = unsafe { (ptr.name().to_string(), ptr.step_count()) };
            let points: Vec<f32> = match steps {
                Some(n) => (0..=n.min(40)).map(|k| k as f32 / n.min(40) as f32).collect(),
                None => vec![0.0, 0.1, 0.25, 0.5, 0.77, 1.0],
            };
            for n in points {
                for unit in [true, false] {
                    let shown = unsafe { ptr.normalized_value_to_string(n, unit) };
                    let back = unsafe { ptr.string_to_normalized_value(&shown) }
                        .unwrap_or_else(|| panic!("{name} ({id}) shows {shown:?} but does not accept it"));
                    let again = unsafe { ptr.normalized_value_to_string(back, unit) };
                    assert_eq!(shown, again, "{name} ({id}) at {n}: {shown:?} -> {back} -> {again:?}");
                }
            }
        }
        let preset = &params.preset;
        assert_eq!(preset.string_to_normalized_value("boom bap"), Some(preset.preview_normalized(1)));
        assert_eq!(preset.string_to_normalized_value("Four on the Floor"), Some(preset.preview_normalized(2)));
        assert_eq!(preset.string_to_normalized_value("None"), Some(0.0));
    }
}
