//! The groove grid: lanes × 32 steps of the take playing. Ghost bars show the decoder's hit
//! probability for every step and a line per lane the threshold density sets, so Density and
//! Temperature visibly move it; hits show velocity as brightness and micro-timing as an offset
//! inside the cell; the waiting take shows as outlines until its bar line, and a playhead follows
//! the host. Clicking or dragging paints hits (louder towards the top of a cell) or erases them
//! into the edit layer; right-click gives a cell back to the take; the wheel changes a hit's
//! velocity. Row headers: mute, solo, the lane group's lock, and clear.

use egui::{self, pos2, vec2, Align2, Color32, FontId, Rect, Sense, Stroke, StrokeKind, Ui};
use latentforge::groove::{GROUP_OF_LANE, LANES, LANE_GROUPS, LANE_NAMES, PATTERN_STEPS};
use nice_plug::prelude::{Param, ParamSetter};

use super::layout::{lane_colour, Layout, DIM, PANEL, TEXT};
use super::widgets::{button, button_look, toggle};
use crate::edits::{Edit, EditLayer, PAINT_VELOCITY};
use crate::params::GrooveParams;
use crate::snapshot::GridSnapshot;

/// What a press on the grid started: painting hits or erasing them, cell by cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PaintStroke {
    Paint,
    Erase,
}

pub fn show(
    ui: &mut Ui,
    areas: &Layout,
    params: &GrooveParams,
    setter: &ParamSetter,
    snapshot: &GridSnapshot,
    stroke: &mut Option<PaintStroke>,
) {
    let layer = params.edits.get();
    lane_headers(ui, areas, params, setter, &layer);
    edit(ui, areas, params, snapshot, &layer, stroke);
    draw(ui, areas, params, snapshot, &params.edits.get());
}

fn lane_headers(ui: &mut Ui, areas: &Layout, params: &GrooveParams, setter: &ParamSetter, layer: &EditLayer) {
    let locks = [&params.lock_kick, &params.lock_snare, &params.lock_hats, &params.lock_toms, &params.lock_cymbals];
    for lane in 0..LANES {
        let row = areas.lane_row(lane).shrink2(vec2(0.0, 2.0));
        ui.painter().rect_filled(row, 3.0, PANEL);
        ui.painter().rect_filled(Rect::from_min_size(row.min, vec2(4.0, row.height())), 2.0, lane_colour(lane));
        let name = LANE_NAMES[lane].replace('_', " ");
        ui.painter().text(
            pos2(row.min.x + 10.0, row.center().y),
            Align2::LEFT_CENTER,
            name,
            FontId::proportional(12.0),
            TEXT,
        );
        let size = vec2(18.0, (row.height() - 6.0).clamp(12.0, 18.0));
        let slot = |i: usize| Rect::from_center_size(pos2(row.max.x - 12.0 - 21.0 * i as f32, row.center().y), size);
        if button(ui, slot(0), &format!("clear{lane}"), "×", layer.lane_has_edits(lane)) {
            params.edits.update(|l| l.clear_lane(lane));
        }
        // A lane group locks together: its first lane carries the lock.
        let group = GROUP_OF_LANE[lane];
        if LANE_GROUPS[group][0] == lane {
            toggle(ui, slot(1), locks[group], setter, "L");
        }
        for (i, (label, solo)) in [(2, ("S", true)), (3, ("M", false))] {
            let rect = slot(i);
            let on = if solo { layer.solo[lane] } else { layer.mute[lane] };
            let response = ui.interact(rect, ui.scope_id().with((label, lane)), Sense::click());
            if response.clicked() {
                params.edits.update(|l| {
                    let flag = if solo { &mut l.solo[lane] } else { &mut l.mute[lane] };
                    *flag = !*flag;
                });
            }
            button_look(ui, rect, label, on, response.hovered());
        }
    }
}

/// Turns presses, drags, right-clicks and the wheel over the cells into edits.
fn edit(
    ui: &mut Ui,
    areas: &Layout,
    params: &GrooveParams,
    snapshot: &GridSnapshot,
    layer: &EditLayer,
    stroke: &mut Option<PaintStroke>,
) {
    let response = ui.interact(areas.cells, ui.scope_id().with("grid"), Sense::click_and_drag());
    let density = params.density.modulated_plain_value();
    let playing = layer.apply(&snapshot.take).plays(density);
    let pointer = response.interact_pointer_pos().or(response.hover_pos());
    let Some((step, lane)) = pointer.and_then(|p| areas.cell_at(p)) else {
        if !response.is_pointer_button_down_on() {
            *stroke = None;
        }
        return;
    };
    // Louder towards the top of the cell.
    let cell = areas.cell(step, lane);
    let velocity = pointer.map_or(PAINT_VELOCITY, |p| (1.0f32 - (p.y - cell.min.y) / cell.height()).clamp(0.15, 1.0));
    if response.secondary_clicked() {
        params.edits.update(|l| l.cells[step][lane] = Edit::Take);
        return;
    }
    let pressed = response.drag_started() || (response.clicked() && stroke.is_none());
    if pressed {
        *stroke = Some(if playing[step][lane] { PaintStroke::Erase } else { PaintStroke::Paint });
    }
    if let Some(s) = *stroke {
        if response.dragged() || response.clicked() || pressed {
            let edit = match s {
                PaintStroke::Paint => Edit::Hit(velocity),
                PaintStroke::Erase => Edit::Rest,
            };
            if layer.cells[step][lane] != edit {
                params.edits.update(|l| l.cells[step][lane] = edit);
            }
        }
    }
    if response.drag_stopped() || response.clicked() {
        *stroke = None;
    }
    let scroll: f32 = ui.input(|i| {
        i.events.iter().map(|e| if let egui::Event::MouseWheel { delta, .. } = e { delta.y } else { 0.0 }).sum()
    });
    if scroll != 0.0 && response.hovered() && playing[step][lane] {
        let now = match layer.cells[step][lane] {
            Edit::Hit(v) => v,
            _ => snapshot.take.cells[step][lane].velocity,
        };
        let v = (now + scroll.signum() * 0.05).clamp(0.05, 1.0);
        params.edits.update(|l| l.cells[step][lane] = Edit::Hit(v));
    }
}

fn draw(ui: &Ui, areas: &Layout, params: &GrooveParams, snapshot: &GridSnapshot, layer: &EditLayer) {
    let painter = ui.painter_at(areas.cells.expand(1.0));
    let density = params.density.modulated_plain_value();
    let played = layer.apply(&snapshot.take);
    let plays = played.plays(density);
    let thresholds = played.hit_thresholds(density);
    painter.rect_filled(areas.cells, 3.0, PANEL);
    for step in 0..PATTERN_STEPS {
        if step % 4 == 0 {
            let beat = areas.cell(step, 0).union(areas.cell(step + 3, LANES - 1));
            let shade = if step % 8 == 0 { PANEL.gamma_multiply(1.25) } else { PANEL };
            painter.rect_filled(beat, 0.0, shade);
        }
    }
    for lane in 0..LANES {
        let colour = lane_colour(lane);
        for (step, (cells, playing)) in played.cells.iter().zip(&plays).enumerate() {
            let rect = areas.cell(step, lane).shrink(1.5);
            let cell = cells[lane];
            // Ghost: the hit probability as a faint bar from the bottom of the cell.
            let p = if cell.prob.is_finite() { cell.prob.clamp(0.0, 1.0) } else { 0.0 };
            let ghost = Rect::from_min_max(pos2(rect.min.x, rect.max.y - p * rect.height()), rect.max);
            painter.rect_filled(ghost, 1.0, colour.gamma_multiply(0.16));
            if playing[lane] {
                let v = if cell.velocity.is_finite() { cell.velocity.clamp(0.05, 1.0) } else { 0.8 };
                let offset = if cell.offset.is_finite() { cell.offset.clamp(-0.5, 0.5) } else { 0.0 };
                let hit = Rect::from_center_size(
                    pos2(rect.center().x + offset * rect.width() * 0.5, rect.center().y),
                    vec2(rect.width() * 0.62, rect.height() * 0.7),
                );
                painter.rect_filled(hit, 2.0, colour.gamma_multiply(0.25 + 0.75 * v));
            }
            match layer.cells[step][lane] {
                Edit::Take => {}
                Edit::Hit(_) => {
                    painter.rect_stroke(rect, 2.0, Stroke::new(1.5, Color32::WHITE), StrokeKind::Inside);
                }
                Edit::Rest => {
                    let s = Stroke::new(1.2, DIM);
                    painter.line_segment([rect.left_top() + vec2(4.0, 4.0), rect.right_bottom() - vec2(4.0, 4.0)], s);
                }
            }
        }
        // The threshold this lane's cells must pass at this density.
        let t = thresholds[lane].clamp(0.0, 1.0);
        let row = areas.cell(0, lane).union(areas.cell(PATTERN_STEPS - 1, lane)).shrink(1.5);
        let y = row.max.y - t * row.height();
        painter.line_segment([pos2(row.min.x, y), pos2(row.max.x, y)], Stroke::new(1.0, colour.gamma_multiply(0.55)));
    }
    if let Some((waiting, _)) = &snapshot.waiting {
        let next = layer.apply(waiting).plays(density);
        for (step, lanes) in next.iter().enumerate() {
            for (lane, on) in lanes.iter().enumerate() {
                if *on {
                    let r = areas.cell(step, lane).shrink(5.0);
                    painter.rect_stroke(
                        r,
                        2.0,
                        Stroke::new(1.0, lane_colour(lane).gamma_multiply(0.6)),
                        StrokeKind::Inside,
                    );
                }
            }
        }
    }
    for bar in [0, 16] {
        let x = areas.cell(bar, 0).min.x;
        painter.line_segment([pos2(x, areas.cells.min.y), pos2(x, areas.cells.max.y)], Stroke::new(1.5, DIM));
    }
    let step = (snapshot.beat * 4.0).rem_euclid(PATTERN_STEPS as f64) as f32;
    if snapshot.beat.is_finite() {
        let x = areas.cells.min.x + step / PATTERN_STEPS as f32 * areas.cells.width();
        painter.line_segment([pos2(x, areas.cells.min.y), pos2(x, areas.cells.max.y)], Stroke::new(2.0, TEXT));
    }
}
