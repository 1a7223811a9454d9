//! Controls bound to host parameters: a rotary knob, a toggle, a stepper for whole numbers and
//! the XY pad. Each wraps its changes in begin/set/end gestures so the host records them as
//! automation, and double-click returns a knob to its default.

use std::f32::consts::PI;

use egui::{self, pos2, vec2, Align2, Color32, FontId, Rect, Response, Sense, Stroke, StrokeKind, Ui};
use nice_plug::prelude::{Param, ParamSetter};

use super::layout::{DIM, PANEL, TEXT};

/// Pixels of vertical drag that sweep a knob's whole range.
const KNOB_TRAVEL: f32 = 180.0;
const ACCENT: Color32 = Color32::from_rgb(240, 170, 80);

/// Begins, sets and ends a gesture according to how `response` was used; `value` maps the
/// pointer to the new normalised value while dragging or clicking.
fn gesture<P: Param>(response: &Response, param: &P, setter: &ParamSetter, value: impl Fn(&Response) -> Option<f32>) {
    if response.double_clicked() {
        reset(param, setter);
        return;
    }
    if response.drag_started() {
        setter.begin_set_parameter(param);
    }
    if response.dragged() {
        if let Some(v) = value(response) {
            setter.set_parameter_normalized(param, v.clamp(0.0, 1.0));
        }
    }
    if response.drag_stopped() {
        setter.end_set_parameter(param);
    }
}

/// Back to the default value, as one gesture.
fn reset<P: Param>(param: &P, setter: &ParamSetter) {
    setter.begin_set_parameter(param);
    setter.set_parameter_normalized(param, param.default_normalized_value());
    setter.end_set_parameter(param);
}

/// A rotary knob with its name under it and its value while hovered or dragged.
pub fn knob<P: Param>(ui: &mut Ui, rect: Rect, param: &P, setter: &ParamSetter, label: &str) -> Response {
    let response = ui.interact(rect, ui.scope_id().with(param.name()), Sense::click_and_drag());
    let now = param.unmodulated_normalized_value();
    gesture(&response, param, setter, |r| Some(now - r.drag_delta().y / KNOB_TRAVEL));
    let painter = ui.painter_at(rect.expand(2.0));
    let radius = (rect.width().min(rect.height() - 14.0) / 2.0 - 3.0).max(6.0);
    let centre = pos2(rect.center().x, rect.min.y + radius + 3.0);
    let (start, sweep) = (0.75 * PI, 1.5 * PI);
    let arc = |from: f32, to: f32, colour: Color32, width: f32| {
        let n = 24;
        let points: Vec<_> = (0..=n)
            .map(|i| {
                let a = start + sweep * (from + (to - from) * i as f32 / n as f32);
                centre + radius * vec2(a.cos(), a.sin())
            })
            .collect();
        painter.add(egui::Shape::line(points, Stroke::new(width, colour)));
    };
    arc(0.0, 1.0, PANEL.gamma_multiply(2.0), 4.0);
    arc(0.0, now, ACCENT, 4.0);
    let a = start + sweep * now;
    painter.line_segment([centre, centre + (radius - 3.0) * vec2(a.cos(), a.sin())], Stroke::new(2.0, TEXT));
    let text = if response.hovered() || response.dragged() {
        param.normalized_value_to_string(now, true)
    } else {
        label.to_string()
    };
    painter.text(pos2(rect.center().x, rect.max.y), Align2::CENTER_BOTTOM, text, FontId::proportional(11.0), TEXT);
    response.on_hover_text(param.name())
}

/// An on/off button for a boolean parameter.
pub fn toggle<P: Param<Plain = bool>>(
    ui: &mut Ui,
    rect: Rect,
    param: &P,
    setter: &ParamSetter,
    label: &str,
) -> Response {
    let on = param.modulated_plain_value();
    let response = ui.interact(rect, ui.scope_id().with(("toggle", param.name())), Sense::click());
    if response.clicked() {
        setter.begin_set_parameter(param);
        setter.set_parameter(param, !on);
        setter.end_set_parameter(param);
    }
    button_look(ui, rect, label, on, response.hovered());
    response.on_hover_text(param.name())
}

/// Draws a small square button: filled when `on`.
pub fn button_look(ui: &Ui, rect: Rect, label: &str, on: bool, hovered: bool) {
    let painter = ui.painter();
    let fill = if on {
        ACCENT
    } else if hovered {
        PANEL.gamma_multiply(2.2)
    } else {
        PANEL.gamma_multiply(1.6)
    };
    painter.rect_filled(rect, 3.0, fill);
    let colour = if on { Color32::BLACK } else { TEXT };
    painter.text(rect.center(), Align2::CENTER_CENTER, label, FontId::proportional(11.0), colour);
}

/// A plain clickable button; true when clicked.
pub fn button(ui: &mut Ui, rect: Rect, id: &str, label: &str, enabled: bool) -> bool {
    let response =
        ui.interact(rect, ui.scope_id().with(("button", id)), if enabled { Sense::click() } else { Sense::hover() });
    let painter = ui.painter();
    let fill = if response.hovered() && enabled { PANEL.gamma_multiply(2.4) } else { PANEL.gamma_multiply(1.6) };
    painter.rect_filled(rect, 3.0, fill);
    painter.text(
        rect.center(),
        Align2::CENTER_CENTER,
        label,
        FontId::proportional(12.0),
        if enabled { TEXT } else { DIM },
    );
    response.clicked()
}

/// < value > for a whole-number parameter (seed, kit); dragging the value sweeps it.
pub fn stepper<P: Param<Plain = i32>>(ui: &mut Ui, rect: Rect, param: &P, setter: &ParamSetter, label: &str) {
    let w = 22.0;
    let left = Rect::from_min_size(rect.min, vec2(w, rect.height()));
    let right = Rect::from_min_size(pos2(rect.max.x - w, rect.min.y), vec2(w, rect.height()));
    let middle = Rect::from_min_max(pos2(left.max.x + 2.0, rect.min.y), pos2(right.min.x - 2.0, rect.max.y));
    let value = param.modulated_plain_value();
    let set = |v: i32| {
        setter.begin_set_parameter(param);
        setter.set_parameter(param, v);
        setter.end_set_parameter(param);
    };
    if button(ui, left, &format!("{}-", param.name()), "<", true) {
        set(param.previous_step(value, false));
    }
    if button(ui, right, &format!("{}+", param.name()), ">", true) {
        set(param.next_step(value, false));
    }
    let response = ui.interact(middle, ui.scope_id().with(("stepper", param.name())), Sense::click_and_drag());
    let now = param.unmodulated_normalized_value();
    gesture(&response, param, setter, |r| Some(now - r.drag_delta().y / (KNOB_TRAVEL * 20.0)));
    let painter = ui.painter();
    painter.rect_filled(middle, 3.0, PANEL.gamma_multiply(1.3));
    let shown = param.normalized_value_to_string(param.unmodulated_normalized_value(), true);
    painter.text(middle.center(), Align2::CENTER_CENTER, format!("{label}: {shown}"), FontId::proportional(13.0), TEXT);
}

/// A five-pointed star (the default fonts have no ★): filled, or as an outline.
pub fn star(painter: &egui::Painter, centre: egui::Pos2, radius: f32, filled: bool, colour: Color32) {
    let point = |i: usize| {
        let r = if i.is_multiple_of(2) { radius } else { radius * 0.45 };
        let a = -PI / 2.0 + i as f32 * PI / 5.0;
        centre + r * vec2(a.cos(), a.sin())
    };
    let points: Vec<_> = (0..10).map(point).collect();
    if filled {
        let inner: Vec<_> = (0..5).map(|i| point(2 * i + 1)).collect();
        painter.add(egui::Shape::convex_polygon(inner, colour, Stroke::NONE));
        for i in 0..5 {
            let tip = vec![point(2 * i), point(2 * i + 1), point((2 * i + 9) % 10)];
            painter.add(egui::Shape::convex_polygon(tip, colour, Stroke::NONE));
        }
    } else {
        painter.add(egui::Shape::closed_line(points, Stroke::new(1.0, colour)));
    }
}

/// A pad moving two parameters at once: x to the right, y upwards.
pub fn xy_pad<X: Param, Y: Param>(ui: &mut Ui, rect: Rect, x: &X, y: &Y, setter: &ParamSetter) -> Response {
    let response = ui.interact(rect, ui.scope_id().with("xy-pad"), Sense::click_and_drag());
    let to_value = |pos: egui::Pos2| ((pos.x - rect.min.x) / rect.width(), 1.0 - (pos.y - rect.min.y) / rect.height());
    if response.double_clicked() {
        reset(x, setter);
        reset(y, setter);
    } else {
        if response.drag_started() {
            setter.begin_set_parameter(x);
            setter.begin_set_parameter(y);
        }
        if response.dragged() {
            if let Some(pos) = response.interact_pointer_pos() {
                let (vx, vy) = to_value(pos);
                setter.set_parameter_normalized(x, vx.clamp(0.0, 1.0));
                setter.set_parameter_normalized(y, vy.clamp(0.0, 1.0));
            }
        }
        if response.drag_stopped() {
            setter.end_set_parameter(x);
            setter.end_set_parameter(y);
        }
    }
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 4.0, PANEL.gamma_multiply(1.3));
    for i in 1..4 {
        let f = i as f32 / 4.0;
        let grid = Stroke::new(1.0, PANEL.gamma_multiply(2.0));
        painter.line_segment(
            [pos2(rect.min.x + f * rect.width(), rect.min.y), pos2(rect.min.x + f * rect.width(), rect.max.y)],
            grid,
        );
        painter.line_segment(
            [pos2(rect.min.x, rect.min.y + f * rect.height()), pos2(rect.max.x, rect.min.y + f * rect.height())],
            grid,
        );
    }
    let (vx, vy) = (x.unmodulated_normalized_value(), y.unmodulated_normalized_value());
    let dot = pos2(rect.min.x + vx * rect.width(), rect.min.y + (1.0 - vy) * rect.height());
    painter
        .line_segment([pos2(dot.x, rect.min.y), pos2(dot.x, rect.max.y)], Stroke::new(1.0, ACCENT.gamma_multiply(0.4)));
    painter
        .line_segment([pos2(rect.min.x, dot.y), pos2(rect.max.x, dot.y)], Stroke::new(1.0, ACCENT.gamma_multiply(0.4)));
    painter.circle_filled(dot, 7.0, ACCENT);
    painter.rect_stroke(rect, 4.0, Stroke::new(1.0, DIM), StrokeKind::Inside);
    response
}
