//! Where each part of the editor sits, as plain functions of the window size (logical pixels):
//! the editor draws with them and the GUI test clicks with them.

use egui::{pos2, vec2, Color32, Pos2, Rect, Vec2};
use latentforge::groove::{GROUP_OF_LANE, LANES, PATTERN_STEPS};

pub use crate::state::{DEFAULT_SIZE, MAX_SIZE, MIN_SIZE};

const MARGIN: f32 = 8.0;
const HEADER: f32 = 40.0;
const SIDE: f32 = 300.0;
const LANE_HEADER: f32 = 150.0;
const STRIP: f32 = 92.0;
const KIT: f32 = 112.0;

pub const BACKGROUND: Color32 = Color32::from_rgb(24, 26, 30);
pub const PANEL: Color32 = Color32::from_rgb(33, 36, 42);
pub const TEXT: Color32 = Color32::from_rgb(210, 214, 222);
pub const DIM: Color32 = Color32::from_rgb(120, 126, 138);

/// One colour per lane group (kick, snare, hats, toms, cymbals).
const GROUP_COLOURS: [Color32; 5] = [
    Color32::from_rgb(255, 120, 90),
    Color32::from_rgb(255, 200, 80),
    Color32::from_rgb(110, 210, 160),
    Color32::from_rgb(110, 170, 255),
    Color32::from_rgb(200, 140, 255),
];

pub fn lane_colour(lane: usize) -> Color32 {
    GROUP_COLOURS[GROUP_OF_LANE[lane]]
}

/// The editor's areas for a window of `size`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layout {
    pub header: Rect,
    /// Lane names, mute, solo, lock and clear, one row per lane.
    pub lane_headers: Rect,
    /// The step cells: lanes × 32 steps.
    pub cells: Rect,
    pub strip: Rect,
    pub kit: Rect,
    /// The XY pad, macro knobs and feel knobs.
    pub side: Rect,
}

impl Layout {
    pub fn new(size: Vec2) -> Layout {
        let size = vec2(size.x.max(MIN_SIZE.0 as f32), size.y.max(MIN_SIZE.1 as f32));
        let header = Rect::from_min_size(pos2(MARGIN, MARGIN), vec2(size.x - 2.0 * MARGIN, HEADER - MARGIN));
        let left = size.x - SIDE - 3.0 * MARGIN;
        let top = HEADER + MARGIN;
        let kit = Rect::from_min_size(pos2(MARGIN, size.y - MARGIN - KIT), vec2(left, KIT));
        let strip = Rect::from_min_size(pos2(MARGIN, kit.min.y - MARGIN - STRIP), vec2(left, STRIP));
        let grid_height = strip.min.y - MARGIN - top;
        let lane_headers = Rect::from_min_size(pos2(MARGIN, top), vec2(LANE_HEADER, grid_height));
        let cells = Rect::from_min_max(pos2(lane_headers.max.x + 4.0, top), pos2(MARGIN + left, top + grid_height));
        let side = Rect::from_min_max(pos2(size.x - MARGIN - SIDE, top), pos2(size.x - MARGIN, size.y - MARGIN));
        Layout { header, lane_headers, cells, strip, kit, side }
    }

    pub fn cell(&self, step: usize, lane: usize) -> Rect {
        let w = self.cells.width() / PATTERN_STEPS as f32;
        let h = self.cells.height() / LANES as f32;
        Rect::from_min_size(pos2(self.cells.min.x + step as f32 * w, self.cells.min.y + lane as f32 * h), vec2(w, h))
    }

    /// The step and lane under `pos`, if it is on the grid.
    pub fn cell_at(&self, pos: Pos2) -> Option<(usize, usize)> {
        if !self.cells.contains(pos) {
            return None;
        }
        let step = ((pos.x - self.cells.min.x) / self.cells.width() * PATTERN_STEPS as f32) as usize;
        let lane = ((pos.y - self.cells.min.y) / self.cells.height() * LANES as f32) as usize;
        Some((step.min(PATTERN_STEPS - 1), lane.min(LANES - 1)))
    }

    /// The export row, top right of the kit section: folder, variations, Export, drag handle.
    pub fn export_field(&self) -> Rect {
        Rect::from_min_max(
            pos2(self.kit.min.x + 196.0, self.kit.min.y + 3.0),
            pos2(self.variations().min.x - 6.0, self.kit.min.y + 23.0),
        )
    }

    pub fn variations(&self) -> Rect {
        Rect::from_min_size(pos2(self.export_button().min.x - 96.0, self.kit.min.y + 3.0), vec2(90.0, 20.0))
    }

    pub fn export_button(&self) -> Rect {
        Rect::from_min_size(pos2(self.drag_handle().min.x - 70.0, self.kit.min.y + 3.0), vec2(64.0, 20.0))
    }

    /// Drag this into a DAW's track to drop the exported `.mid`.
    pub fn drag_handle(&self) -> Rect {
        Rect::from_min_size(pos2(self.kit.max.x - 62.0, self.kit.min.y + 3.0), vec2(56.0, 20.0))
    }

    /// The last export's folder (or error) and its copy button, along the bottom of the kit section.
    pub fn export_status(&self) -> Rect {
        Rect::from_min_max(
            pos2(self.kit.min.x + 8.0, self.kit.max.y - 20.0),
            pos2(self.kit.max.x - 92.0, self.kit.max.y - 2.0),
        )
    }

    pub fn copy_button(&self) -> Rect {
        Rect::from_min_size(pos2(self.kit.max.x - 86.0, self.kit.max.y - 21.0), vec2(80.0, 18.0))
    }

    pub fn lane_row(&self, lane: usize) -> Rect {
        let h = self.lane_headers.height() / LANES as f32;
        Rect::from_min_size(
            pos2(self.lane_headers.min.x, self.lane_headers.min.y + lane as f32 * h),
            vec2(self.lane_headers.width(), h),
        )
    }
}

/// The centre of the Export button of a window `width` × `height`. For the GUI test.
pub fn export_centre(width: u32, height: u32) -> (f32, f32) {
    let c = Layout::new(vec2(width as f32, height as f32)).export_button().center();
    (c.x, c.y)
}

/// The centre of the drag-out handle of a window `width` × `height`. For the GUI test.
pub fn drag_centre(width: u32, height: u32) -> (f32, f32) {
    let c = Layout::new(vec2(width as f32, height as f32)).drag_handle().center();
    (c.x, c.y)
}

/// Where a click lands on cell (`step`, `lane`) of a window `width` × `height` logical pixels:
/// the cell's centre. For the GUI test.
pub fn cell_centre(width: u32, height: u32, step: usize, lane: usize) -> (f32, f32) {
    let c = Layout::new(vec2(width as f32, height as f32)).cell(step, lane).center();
    (c.x, c.y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_do_not_overlap_and_cells_map_back() {
        for (w, h) in [DEFAULT_SIZE, MIN_SIZE, MAX_SIZE] {
            let l = Layout::new(vec2(w as f32, h as f32));
            let areas = [l.header, l.lane_headers, l.cells, l.strip, l.kit, l.side];
            for (i, a) in areas.iter().enumerate() {
                assert!(a.width() > 50.0 && a.height() > 30.0, "{w}x{h}: area {i} is {a:?}");
                assert!(a.max.x <= w as f32 && a.max.y <= h as f32, "{w}x{h}: area {i} leaves the window");
                for b in &areas[i + 1..] {
                    assert!(!a.shrink(0.5).intersects(b.shrink(0.5)), "{w}x{h}: {a:?} overlaps {b:?}");
                }
            }
            for (step, lane) in [(0, 0), (31, 8), (17, 4)] {
                assert_eq!(l.cell_at(l.cell(step, lane).center()), Some((step, lane)));
            }
        }
    }
}
