//! The export row: the folder exports go to (typed once, saved), how many variations an export
//! adds, the Export button, the drag handle (the groove as a `.mid` file, dragged into the DAW
//! over XDND: [`super::drag`]), and the last export's folder with a button copying its path.

use std::path::PathBuf;

use egui::{Align2, FontId, Key, Sense, TextEdit, Ui, UiBuilder};
use latentforge::groove;
use latentforge::io::atomic::write_bytes_atomic;

use super::drag;
use super::layout::{Layout, DIM, PANEL, TEXT};
use super::widgets::button;
use crate::export::{free_path, ExportJob, ExportState, MAX_VARIATIONS};
use crate::params::GrooveParams;
use crate::snapshot::GridSnapshot;
use crate::state::EditorSettings;

pub fn show(ui: &mut Ui, areas: &Layout, params: &GrooveParams, snapshot: &GridSnapshot, typing: &mut Option<String>) {
    let mut settings = EditorSettings::current(&params.editor);
    let save = |settings: &EditorSettings| settings.store(&params.editor);
    // The folder: edited as text, taken when the field loses focus or Enter is pressed.
    let field = areas.export_field();
    let mut text = typing.take().unwrap_or_else(|| settings.export_dir().display().to_string());
    let response = ui
        .scope_builder(UiBuilder::new().max_rect(field), |ui| {
            ui.add_sized(field.size(), TextEdit::singleline(&mut text).hint_text("export folder"))
        })
        .inner;
    if response.lost_focus() || (response.has_focus() && ui.input(|i| i.key_pressed(Key::Enter))) {
        let dir = PathBuf::from(text.trim());
        settings.export_dir = (!dir.as_os_str().is_empty()).then_some(dir);
        save(&settings);
    } else if response.has_focus() {
        *typing = Some(text);
    }
    response.on_hover_text("Exports go into a new folder here (nothing is overwritten)");

    let variations = areas.variations();
    let n = settings.export_variations;
    let half = variations.width() / 4.0;
    let minus = egui::Rect::from_min_size(variations.min, egui::vec2(half, variations.height()));
    let plus = egui::Rect::from_min_size(egui::pos2(variations.max.x - half, variations.min.y), minus.size());
    if button(ui, minus, "variations-", "-", n > 0) {
        settings.export_variations = n - 1;
        save(&settings);
    }
    if button(ui, plus, "variations+", "+", n < MAX_VARIATIONS) {
        settings.export_variations = n + 1;
        save(&settings);
    }
    ui.painter().text(
        variations.center(),
        Align2::CENTER_CENTER,
        format!("+{n} var."),
        FontId::proportional(12.0),
        TEXT,
    );

    let state = params.exports.state();
    if button(ui, areas.export_button(), "export", "Export", state != ExportState::Running) {
        params.exports.request(ExportJob {
            take: snapshot.take,
            layer: params.edits.get(),
            settings: snapshot.settings,
            mix: params.mix(),
            bpm: snapshot.tempo,
            variations: settings.export_variations,
            dir: settings.export_dir(),
        });
    }
    // Drag-out: the groove playing, as a .mid file saved under the export folder, dragged.
    let handle = areas.drag_handle();
    let response = ui.interact(handle, ui.scope_id().with("drag-out"), Sense::drag());
    let hovered = response.hovered() || response.dragged();
    ui.painter().rect_filled(handle, 3.0, if hovered { PANEL.gamma_multiply(2.6) } else { PANEL.gamma_multiply(1.8) });
    ui.painter().text(handle.center(), Align2::CENTER_CENTER, "Drag .mid", FontId::proportional(11.0), TEXT);
    if response.drag_started() {
        match drag_file(params, snapshot, &settings) {
            Ok(file) => drag::start(file),
            Err(e) => nice_plug::nice_warn!("Latent Groove: {e}"),
        }
    }
    response.on_hover_text("Drag into a MIDI track (the file is kept in the export folder, under dragged/)");

    let (line, path) = match &state {
        ExportState::Idle => {
            ("Export writes the groove and variations as .mid, the kit render and stems as .wav".to_string(), None)
        }
        ExportState::Running => ("Exporting…".to_string(), None),
        ExportState::Done(dir) => (format!("Exported to {}", dir.display()), Some(dir.display().to_string())),
        ExportState::Failed(e) => (format!("Export failed: {e}"), None),
    };
    let status = areas.export_status();
    let painter = ui.painter_at(status);
    painter.text(status.left_center(), Align2::LEFT_CENTER, line, FontId::proportional(11.0), DIM);
    if let Some(path) = path {
        if button(ui, areas.copy_button(), "copy-path", "Copy path", true) {
            ui.ctx().copy_text(path);
        }
    }
}

/// Writes the groove playing (edits applied) to a new file under `<export folder>/dragged/`.
fn drag_file(params: &GrooveParams, snapshot: &GridSnapshot, settings: &EditorSettings) -> Result<PathBuf, String> {
    let dir = settings.export_dir().join("dragged");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let knobs = &snapshot.settings;
    let file = free_path(&dir, knobs, ".mid")?;
    let played = params.edits.get().apply(&snapshot.take);
    let bpm = if groove::BPM_RANGE.contains(&snapshot.tempo) { snapshot.tempo } else { 120.0 };
    write_bytes_atomic(&file, &groove::midi_file(&[played], &knobs.feel(), bpm))
        .map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(file)
}
