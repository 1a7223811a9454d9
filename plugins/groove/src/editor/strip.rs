//! The variation history strip: undo and redo one variation at a time, and a thumbnail of each
//! recent variation (click to go back, ★ to keep it with the project). Going back sets the
//! knobs it was made with; the decoder gives the same groove again.

use std::time::Instant;

use egui::{pos2, vec2, Align2, Color32, FontId, Rect, Sense, Stroke, StrokeKind, Ui};
use latentforge::groove::{LANES, PATTERN_STEPS};
use nice_plug::prelude::ParamSetter;

use super::controls::set_knobs;
use super::layout::{lane_colour, Layout, DIM, PANEL, TEXT};
use super::widgets::{button, star as star_shape};
use crate::history::{Knobs, Variation, HISTORY_LEN};
use crate::params::GrooveParams;

const THUMB: f32 = 100.0;

pub fn show(ui: &mut Ui, areas: &Layout, params: &GrooveParams, setter: &ParamSetter) {
    let area = areas.strip;
    ui.painter().rect_filled(area, 4.0, PANEL);
    let (entries, current) = {
        let h = params.history.lock().unwrap_or_else(|e| e.into_inner());
        (h.entries.clone(), h.current)
    };
    let now = Instant::now();
    let mut go: Option<Knobs> = None;
    let undo = Rect::from_min_size(area.min + vec2(6.0, 8.0), vec2(56.0, 30.0));
    let redo = undo.translate(vec2(0.0, 38.0));
    if button(ui, undo, "undo", "Undo", current > 0) {
        go = params.history.lock().unwrap_or_else(|e| e.into_inner()).step(false, now);
    }
    if button(ui, redo, "redo", "Redo", current + 1 < entries.len()) {
        go = params.history.lock().unwrap_or_else(|e| e.into_inner()).step(true, now);
    }
    // The newest variations that fit, newest on the right.
    let left = undo.max.x + 8.0;
    let fits = (((area.max.x - left) / (THUMB + 6.0)) as usize).clamp(1, HISTORY_LEN);
    let first = entries.len().saturating_sub(fits);
    if entries.is_empty() {
        ui.painter().text(
            pos2(left + 8.0, area.center().y),
            Align2::LEFT_CENTER,
            "Variations appear here as you make them",
            FontId::proportional(12.0),
            DIM,
        );
    }
    for (slot, (index, entry)) in entries.iter().enumerate().skip(first).enumerate() {
        let rect = Rect::from_min_size(
            pos2(left + slot as f32 * (THUMB + 6.0), area.min.y + 8.0),
            vec2(THUMB, area.height() - 16.0),
        );
        let response = ui.interact(rect, ui.scope_id().with(("variation", index)), Sense::click());
        let star = Rect::from_min_size(pos2(rect.max.x - 18.0, rect.min.y), vec2(18.0, 16.0));
        let star_clicked = response.clicked() && response.interact_pointer_pos().is_some_and(|p| star.contains(p));
        if star_clicked {
            params.history.lock().unwrap_or_else(|e| e.into_inner()).toggle_star(index);
        } else if response.clicked() {
            go = params.history.lock().unwrap_or_else(|e| e.into_inner()).jump(index, now);
        }
        thumbnail(ui, rect, entry, index == current, response.hovered());
        let colour = if entry.starred { Color32::from_rgb(255, 210, 80) } else { DIM };
        star_shape(ui.painter(), star.center(), 6.5, entry.starred, colour);
        response.on_hover_text(format!(
            "Seed {}, variation {}, temperature {:.2}: click to go back, the star keeps it with the project",
            entry.knobs.seed, entry.knobs.variation, entry.knobs.temperature
        ));
    }
    if let Some(knobs) = go {
        set_knobs(params, setter, &knobs);
    }
}

fn thumbnail(ui: &Ui, rect: Rect, entry: &Variation, current: bool, hovered: bool) {
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, PANEL.gamma_multiply(if hovered { 1.8 } else { 1.3 }));
    let cells = rect.shrink2(vec2(4.0, 16.0)).translate(vec2(0.0, 6.0));
    let (w, h) = (cells.width() / PATTERN_STEPS as f32, cells.height() / LANES as f32);
    for lane in 0..LANES {
        for step in 0..PATTERN_STEPS {
            if entry.hit(step, lane) {
                let r = Rect::from_min_size(
                    pos2(cells.min.x + step as f32 * w, cells.min.y + lane as f32 * h),
                    vec2(w.max(1.0), h.max(1.0)),
                );
                painter.rect_filled(r.shrink(0.3), 0.0, lane_colour(lane));
            }
        }
    }
    painter.text(
        rect.min + vec2(4.0, 2.0),
        Align2::LEFT_TOP,
        format!("{}·{}", entry.knobs.seed, entry.knobs.variation),
        FontId::proportional(10.0),
        TEXT,
    );
    if current {
        painter.rect_stroke(rect, 3.0, Stroke::new(2.0, Color32::WHITE), StrokeKind::Inside);
    }
}
