//! The editor (nice-plug-egui): the groove grid with the decoder's hit probabilities and the
//! edit layer, the variation history, the XY pad over two latent macros with the others as
//! knobs, the feel and kit sections, and a status line. It runs on the window's thread and
//! reads what plays from the snapshot the audio thread publishes (a triple buffer), so opening
//! it changes nothing for `process()`. Every control is a host parameter (moved with
//! begin/set/end gestures, so hosts record automation) or saved state.
//!
//! One file per part: [`layout`] (where everything is, also for the tests' clicks), [`grid`],
//! [`strip`] (the history), [`controls`] (header, XY pad, knobs, kit), [`export`] (export and
//! drag-out), [`widgets`] (knob, pad).

use std::sync::Arc;

use egui::{self, Vec2};
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::ResizeHint;
use nice_plug_egui::{EguiEditorState, EguiNiceSettings, Frame, NiceEguiApp, RepaintNotifier};

use crate::params::GrooveParams;
use crate::snapshot::GridSnapshot;
use crate::state::EditorSettings;

mod controls;
mod drag;
mod export;
mod grid;
pub mod layout;
mod strip;
mod widgets;

pub type Editor = nice_plug_egui::EguiEditor<GrooveEditor>;

/// The editor's own state, kept while its window is closed.
pub struct GrooveEditor {
    params: Arc<GrooveParams>,
    grid: triple_buffer::Output<GridSnapshot>,
    context: Option<GuiContext>,
    /// A paint or erase stroke in progress on the grid.
    stroke: Option<grid::PaintStroke>,
    /// The export folder as it is being typed.
    export_dir_text: Option<String>,
}

pub fn create(params: Arc<GrooveParams>, grid: triple_buffer::Output<GridSnapshot>) -> Option<Editor> {
    let settings = EditorSettings::current(&params.editor);
    let state = EguiEditorState::from_size(LogicalSize::new(settings.width as f64, settings.height as f64), 1.0);
    let (min_w, min_h) = layout::MIN_SIZE;
    let (max_w, max_h) = layout::MAX_SIZE;
    let hint = ResizeHint::resizable().with_min_max_logical_size(
        Some(LogicalSize::new(min_w as f32, min_h as f32)),
        Some(LogicalSize::new(max_w as f32, max_h as f32)),
    );
    let nice = EguiNiceSettings::new().with_tile("Latent Groove").with_resize_hint(hint);
    nice_plug_egui::create_egui_editor(
        state,
        RepaintNotifier::new(),
        nice,
        GrooveEditor { params, grid, context: None, stroke: None, export_dir_text: None },
    )
}

impl NiceEguiApp for GrooveEditor {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        _frame: &mut Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        egui_ctx.set_visuals(egui::Visuals::dark());
        // A project may have saved another size than the one the window opened at.
        let saved = EditorSettings::current(&self.params.editor);
        egui_ctx
            .send_viewport_cmd(egui::ViewportCommand::InnerSize(Vec2::new(saved.width as f32, saved.height as f32)));
        self.context = Some(nice_gui_ctx);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut Frame) {
        let Some(context) = self.context.clone() else { return };
        let setter = context.param_setter();
        let snapshot = *self.grid.read();
        let size = ui.ctx().content_rect().size();
        let areas = layout::Layout::new(size);
        let painter = ui.painter().clone();
        painter.rect_filled(ui.ctx().content_rect(), 0.0, layout::BACKGROUND);
        controls::header(ui, &areas, &self.params, &setter, &snapshot);
        grid::show(ui, &areas, &self.params, &setter, &snapshot, &mut self.stroke);
        strip::show(ui, &areas, &self.params, &setter);
        controls::side(ui, &areas, &self.params, &setter);
        controls::kit(ui, &areas, &self.params, &setter);
        export::show(ui, &areas, &self.params, &snapshot, &mut self.export_dir_text);
        // The playhead moves while the host plays; otherwise repaint on input only.
        ui.ctx().request_repaint_after(std::time::Duration::from_millis(if snapshot.playing { 33 } else { 250 }));
    }

    fn resized(&mut self, new_size: nice_plug_egui::baseview::WindowSize) {
        if let Ok(mut s) = self.params.editor.lock() {
            s.width = new_size.logical.width.round() as u32;
            s.height = new_size.logical.height.round() as u32;
        }
    }

    fn editor_closed(&mut self) {
        self.context = None;
        self.stroke = None;
    }
}
