//! The editor's controls beside the grid: the header (seed, new variation, preset, status
//! line), the side column (XY pad over two macros the user picks, the other macros as knobs,
//! the feel knobs and Follow) and the kit section (kit, timbre, decay, lane levels, gain).

use std::sync::atomic::Ordering;

use egui::{self, pos2, vec2, Align2, FontId, Rect, Ui, UiBuilder};
use latentforge::groove::{LANES, LANE_NAMES, MACROS};
use nice_plug::prelude::{Param, ParamSetter};

use super::layout::{Layout, DIM, PANEL, TEXT};
use super::widgets::{button, knob, stepper, toggle, xy_pad};
use crate::history::Knobs;
use crate::params::GrooveParams;
use crate::snapshot::GridSnapshot;
use crate::state::EditorSettings;
use crate::worker::{DRUMS_OK, GROOVE_OK, LOADED};

const KNOB: egui::Vec2 = vec2(52.0, 62.0);

/// Sets the groove knobs to `knobs` (going back in the history), each as one gesture.
pub fn set_knobs(params: &GrooveParams, setter: &ParamSetter, knobs: &Knobs) {
    fn set<P: Param>(setter: &ParamSetter, param: &P, value: P::Plain) {
        setter.begin_set_parameter(param);
        setter.set_parameter(param, value);
        setter.end_set_parameter(param);
    }
    params.variation.store(knobs.variation, Ordering::Relaxed);
    set(setter, &params.seed, knobs.seed);
    set(setter, &params.temperature, knobs.temperature);
    for (param, value) in params.macros.iter().zip(knobs.macros) {
        set(setter, &param.value, value);
    }
}

/// What the status line says about the models and the transport.
pub fn status_line(snapshot: &GridSnapshot) -> String {
    let s = snapshot.status;
    let models = if s & LOADED == 0 {
        "loading models…".to_string()
    } else {
        match (s & GROOVE_OK != 0, s & DRUMS_OK != 0) {
            (true, true) => "groove and kit models ready".to_string(),
            (true, false) => "no kit model: MIDI only (re-run `cargo xtask bundle`)".to_string(),
            (false, true) => "no groove model: silent (re-run `cargo xtask bundle`)".to_string(),
            (false, false) => "models missing from the bundle: re-run `cargo xtask bundle`".to_string(),
        }
    };
    let transport = if snapshot.playing { "following the host" } else { "free-running (host stopped)" };
    let follow = if snapshot.following { " · following the input" } else { "" };
    format!("{models} · {transport}{follow}")
}

pub fn header(ui: &mut Ui, areas: &Layout, params: &GrooveParams, setter: &ParamSetter, snapshot: &GridSnapshot) {
    let r = areas.header;
    ui.painter().text(
        pos2(r.min.x + 2.0, r.center().y),
        Align2::LEFT_CENTER,
        "Latent Groove",
        FontId::proportional(18.0),
        TEXT,
    );
    let seed = Rect::from_min_size(pos2(r.min.x + 150.0, r.min.y + 2.0), vec2(150.0, r.height() - 4.0));
    stepper(ui, seed, &params.seed, setter, "Seed");
    let new = Rect::from_min_size(pos2(seed.max.x + 8.0, seed.min.y), vec2(110.0, seed.height()));
    if button(ui, new, "new-variation", "New variation", true) {
        params.variation.fetch_add(1, Ordering::Relaxed);
    }
    let preset = Rect::from_min_size(pos2(new.max.x + 8.0, seed.min.y), vec2(180.0, seed.height()));
    stepper(ui, preset, &params.preset, setter, "Preset");
    let status = pos2(preset.max.x + 12.0, r.center().y);
    let text = status_line(snapshot);
    ui.painter().text(status, Align2::LEFT_CENTER, text, FontId::proportional(12.0), DIM);
}

fn section(ui: &Ui, rect: Rect, title: &str) {
    ui.painter().rect_filled(rect, 4.0, PANEL);
    ui.painter().text(rect.min + vec2(8.0, 4.0), Align2::LEFT_TOP, title, FontId::proportional(12.0), DIM);
}

/// A row of knobs from `at`, one per (param, label), each `size`.
fn knob_row<P: Param>(ui: &mut Ui, at: egui::Pos2, size: egui::Vec2, knobs: &[(&P, &str)], setter: &ParamSetter) {
    for (i, (param, label)) in knobs.iter().enumerate() {
        let rect = Rect::from_min_size(at + vec2(i as f32 * (size.x + 4.0), 0.0), size);
        knob(ui, rect, *param, setter, label);
    }
}

pub fn side(ui: &mut Ui, areas: &Layout, params: &GrooveParams, setter: &ParamSetter) {
    let area = areas.side;
    let mut settings = EditorSettings::current(&params.editor);
    // The XY pad and which macros it moves.
    let pad_box = Rect::from_min_size(area.min, vec2(area.width(), 262.0));
    section(ui, pad_box, "Latent");
    let pick = |ui: &mut Ui, rect: Rect, id: &str, chosen: &mut usize| {
        ui.scope_builder(UiBuilder::new().max_rect(rect), |ui| {
            egui::ComboBox::from_id_salt(id)
                .width(rect.width() - 8.0)
                .selected_text(format!("{id}: Macro {}", *chosen + 1))
                .show_ui(ui, |ui| {
                    for m in 0..MACROS {
                        ui.selectable_value(chosen, m, format!("Macro {}", m + 1));
                    }
                });
        });
    };
    let (mut x, mut y) = (settings.x_macro, settings.y_macro);
    pick(ui, Rect::from_min_size(pad_box.min + vec2(60.0, 2.0), vec2(110.0, 20.0)), "X", &mut x);
    pick(ui, Rect::from_min_size(pad_box.min + vec2(180.0, 2.0), vec2(110.0, 20.0)), "Y", &mut y);
    if (x, y) != (settings.x_macro, settings.y_macro) {
        settings.x_macro = x;
        settings.y_macro = y;
        settings.store(&params.editor);
    }
    let pad = Rect::from_min_max(pad_box.min + vec2(8.0, 28.0), pad_box.max - vec2(8.0, 8.0));
    xy_pad(ui, pad, &params.macros[settings.x_macro].value, &params.macros[settings.y_macro].value, setter);
    // The other macros as knobs, two rows if needed.
    let knobs_box = Rect::from_min_size(pos2(area.min.x, pad_box.max.y + 8.0), vec2(area.width(), 2.0 * KNOB.y + 24.0));
    section(ui, knobs_box, "Macros");
    let others: Vec<usize> = (0..MACROS).filter(|m| *m != settings.x_macro && *m != settings.y_macro).collect();
    let labels: Vec<String> = others.iter().map(|m| format!("M{}", m + 1)).collect();
    let per_row = ((area.width() - 8.0) / (KNOB.x + 4.0)) as usize;
    for (row, chunk) in others.chunks(per_row.max(1)).enumerate() {
        let at = knobs_box.min + vec2(6.0, 20.0 + row as f32 * KNOB.y);
        let start = row * per_row.max(1);
        let row_knobs: Vec<_> =
            chunk.iter().enumerate().map(|(i, m)| (&params.macros[*m].value, labels[start + i].as_str())).collect();
        knob_row(ui, at, KNOB, &row_knobs, setter);
    }
    // Feel: knobs that act when hits are read out, and Temperature.
    let feel_box =
        Rect::from_min_size(pos2(area.min.x, knobs_box.max.y + 8.0), vec2(area.width(), 2.0 * KNOB.y + 24.0));
    section(ui, feel_box, "Feel");
    let at = feel_box.min + vec2(6.0, 20.0);
    knob_row(
        ui,
        at,
        KNOB,
        &[
            (&params.temperature, "Temp"),
            (&params.density, "Density"),
            (&params.swing, "Swing"),
            (&params.humanize_timing, "Timing"),
            (&params.humanize_velocity, "Dynamics"),
        ],
        setter,
    );
    let follow = Rect::from_min_size(at + vec2(0.0, KNOB.y + 20.0), vec2(2.0 * KNOB.x, 22.0));
    toggle(ui, follow, &params.follow, setter, "Follow input");
    knob(
        ui,
        Rect::from_min_size(pos2(follow.max.x + 8.0, at.y + KNOB.y + 2.0), KNOB),
        &params.follow_spread,
        setter,
        "Spread",
    );
}

pub fn kit(ui: &mut Ui, areas: &Layout, params: &GrooveParams, setter: &ParamSetter) {
    let area = areas.kit;
    section(ui, area, "Kit");
    let seed = Rect::from_min_size(area.min + vec2(40.0, 2.0), vec2(140.0, 20.0));
    stepper(ui, seed, &params.kit_seed, setter, "Kit");
    // Timbre, decay, nine lane levels and the output: knobs narrow enough to fit the section.
    let size = vec2(((area.width() - 24.0) / 12.0 - 4.0).min(KNOB.x), KNOB.y);
    let at = area.min + vec2(6.0, 28.0);
    knob_row(ui, at, size, &[(&params.kit_timbre, "Timbre"), (&params.decay, "Decay")], setter);
    let names: Vec<String> = LANE_NAMES.iter().map(|n| short_lane(n)).collect();
    let levels: Vec<_> = (0..LANES).map(|l| (&params.levels[l].value, names[l].as_str())).collect();
    knob_row(ui, at + vec2(2.0 * (size.x + 4.0) + 6.0, 0.0), size, &levels, setter);
    let gain_at = at + vec2((2 + LANES) as f32 * (size.x + 4.0) + 12.0, 0.0);
    knob_row(ui, gain_at, size, &[(&params.gain, "Out")], setter);
}

/// "closed_hat" -> "C.hat", short enough for a knob label.
fn short_lane(name: &str) -> String {
    match name.split_once('_') {
        Some((a, b)) => format!("{}.{b}", a[..1].to_uppercase()),
        None => {
            let mut c = name.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
        }
    }
}
