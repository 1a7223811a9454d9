//! The edit layer: hits painted or erased over the take, and lane mute/solo, from the editor.
//! It is saved with the project and published to the audio thread through a triple buffer, so
//! `process()` reads the newest layer without locking; the take underneath is never changed, so
//! clearing a lane's edits gives the model's lane back.

use std::sync::Mutex;

use latentforge::groove::{Cell, Pattern, LANES, PATTERN_STEPS};
use nice_plug::params::persist::PersistentField;
use serde::{Deserialize, Serialize};

/// Velocity of a hit painted on a step the take leaves empty.
pub const PAINT_VELOCITY: f32 = 0.8;

/// What the edit layer says about one step of one lane.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Edit {
    /// Play what the take plays.
    #[default]
    Take,
    /// A hit at this velocity, whatever the take says.
    Hit(f32),
    /// No hit, whatever the take says.
    Rest,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(from = "SavedEdits", into = "SavedEdits")]
pub struct EditLayer {
    pub cells: [[Edit; LANES]; PATTERN_STEPS],
    pub mute: [bool; LANES],
    pub solo: [bool; LANES],
}

impl Default for EditLayer {
    fn default() -> Self {
        EditLayer { cells: [[Edit::Take; LANES]; PATTERN_STEPS], mute: [false; LANES], solo: [false; LANES] }
    }
}

impl EditLayer {
    /// The pattern `take` plays under this layer: painted hits certain, erased ones and muted
    /// (or not soloed, when any lane is) lanes silent. Plain copies: no allocation.
    pub fn apply(&self, take: &Pattern) -> Pattern {
        let mut out = *take;
        let soloing = self.solo.iter().any(|s| *s);
        for (cells, edits) in out.cells.iter_mut().zip(&self.cells) {
            for (lane, (cell, edit)) in cells.iter_mut().zip(edits).enumerate() {
                match *edit {
                    Edit::Take => {}
                    // Probability 1 clears every threshold density can set; a painted hit sits
                    // on the grid (swing still moves it).
                    Edit::Hit(v) => *cell = Cell { prob: 1.0, velocity: v, offset: 0.0 },
                    Edit::Rest => cell.prob = 0.0,
                }
                if self.mute[lane] || (soloing && !self.solo[lane]) {
                    cell.prob = 0.0;
                }
            }
        }
        out
    }

    /// Forgets every edit of `lane` (its mute and solo stay).
    pub fn clear_lane(&mut self, lane: usize) {
        for step in self.cells.iter_mut() {
            step[lane] = Edit::Take;
        }
    }

    pub fn lane_has_edits(&self, lane: usize) -> bool {
        self.cells.iter().any(|s| s[lane] != Edit::Take)
    }
}

/// How a layer is saved: only the edited cells, each checked when read back.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SavedEdits {
    /// (step, lane, velocity)
    #[serde(default)]
    hits: Vec<(usize, usize, f32)>,
    /// (step, lane)
    #[serde(default)]
    rests: Vec<(usize, usize)>,
    #[serde(default)]
    mute: Vec<usize>,
    #[serde(default)]
    solo: Vec<usize>,
}

impl From<EditLayer> for SavedEdits {
    fn from(layer: EditLayer) -> Self {
        let mut saved = SavedEdits::default();
        for (step, cells) in layer.cells.iter().enumerate() {
            for (lane, edit) in cells.iter().enumerate() {
                match *edit {
                    Edit::Take => {}
                    Edit::Hit(v) => saved.hits.push((step, lane, v)),
                    Edit::Rest => saved.rests.push((step, lane)),
                }
            }
        }
        saved.mute = (0..LANES).filter(|&l| layer.mute[l]).collect();
        saved.solo = (0..LANES).filter(|&l| layer.solo[l]).collect();
        saved
    }
}

/// A project file is untrusted: cells outside the grid are dropped, velocities clamped.
impl From<SavedEdits> for EditLayer {
    fn from(saved: SavedEdits) -> Self {
        let mut layer = EditLayer::default();
        for (step, lane, v) in saved.hits.into_iter().take(PATTERN_STEPS * LANES) {
            if step < PATTERN_STEPS && lane < LANES {
                let v = if v.is_finite() { v.clamp(1.0 / 127.0, 1.0) } else { PAINT_VELOCITY };
                layer.cells[step][lane] = Edit::Hit(v);
            }
        }
        for (step, lane) in saved.rests.into_iter().take(PATTERN_STEPS * LANES) {
            if step < PATTERN_STEPS && lane < LANES {
                layer.cells[step][lane] = Edit::Rest;
            }
        }
        for l in saved.mute.into_iter().filter(|&l| l < LANES).take(LANES) {
            layer.mute[l] = true;
        }
        for l in saved.solo.into_iter().filter(|&l| l < LANES).take(LANES) {
            layer.solo[l] = true;
        }
        layer
    }
}

/// The saved layer, and the writing end of the triple buffer `process()` reads. Written from the
/// editor and by the host restoring a state (never the audio thread), so a mutex is fine here.
pub struct EditStore {
    inner: Mutex<(EditLayer, triple_buffer::Input<EditLayer>)>,
}

impl EditStore {
    /// The store and the reading end for the audio thread.
    pub fn new() -> (EditStore, triple_buffer::Output<EditLayer>) {
        let (input, output) = triple_buffer::triple_buffer(&EditLayer::default());
        (EditStore { inner: Mutex::new((EditLayer::default(), input)) }, output)
    }

    pub fn get(&self) -> EditLayer {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    /// Changes the layer and publishes it to the audio thread.
    pub fn update(&self, change: impl FnOnce(&mut EditLayer)) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        change(&mut inner.0);
        let layer = inner.0;
        inner.1.write(layer);
    }
}

impl<'a> PersistentField<'a, EditLayer> for EditStore {
    fn set(&self, new_value: EditLayer) {
        self.update(|layer| *layer = new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&EditLayer) -> R,
    {
        f(&self.inner.lock().unwrap_or_else(|p| p.into_inner()).0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take() -> Pattern {
        let mut p = Pattern::default();
        p.cells[0][0] = Cell { prob: 0.9, velocity: 0.5, offset: 0.1 };
        p.cells[4][1] = Cell { prob: 0.9, velocity: 0.7, offset: 0.0 };
        p.cells[8][0] = Cell { prob: 0.2, velocity: 0.4, offset: 0.3 };
        p
    }

    #[test]
    fn painted_hits_play_erased_ones_do_not_and_the_take_stays() {
        let mut layer = EditLayer::default();
        layer.cells[0][0] = Edit::Rest;
        layer.cells[8][0] = Edit::Hit(0.6);
        let played = layer.apply(&take());
        assert_eq!(played.cells[0][0].prob, 0.0);
        assert_eq!(played.cells[8][0], Cell { prob: 1.0, velocity: 0.6, offset: 0.0 });
        assert_eq!(played.cells[4][1], take().cells[4][1], "unedited cells are the take's");
        assert_eq!(played.hit_counts(1.0)[0], 1, "a painted hit plays at any density");
        assert_eq!(played.hit_counts(0.0)[0], 1);
        layer.clear_lane(0);
        assert_eq!(layer.apply(&take()), take(), "clearing a lane gives the take back");
    }

    #[test]
    fn mute_and_solo_silence_lanes() {
        let mut layer = EditLayer::default();
        layer.mute[1] = true;
        assert_eq!(layer.apply(&take()).hit_counts(0.5), [1, 0, 0, 0, 0, 0, 0, 0, 0]);
        layer.mute[1] = false;
        layer.solo[1] = true;
        assert_eq!(layer.apply(&take()).hit_counts(0.5), [0, 1, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn a_layer_round_trips_and_hostile_cells_are_dropped() {
        let mut layer = EditLayer::default();
        layer.cells[31][8] = Edit::Hit(0.25);
        layer.cells[2][3] = Edit::Rest;
        layer.solo[4] = true;
        let json = serde_json::to_string(&layer).unwrap();
        assert_eq!(serde_json::from_str::<EditLayer>(&json).unwrap(), layer);
        let hostile = r#"{"hits":[[99,0,1.0],[0,99,1.0],[1,1,1e30],[2,2,null]],"rests":[[40,1]],"mute":[1000]}"#;
        // A null velocity is a type error: the state code drops such a field whole.
        assert!(serde_json::from_str::<EditLayer>(hostile).is_err());
        let hostile = r#"{"hits":[[99,0,1.0],[0,99,1.0],[1,1,1e30]],"rests":[[40,1]],"mute":[1000]}"#;
        let layer: EditLayer = serde_json::from_str(hostile).unwrap();
        let mut expected = EditLayer::default();
        expected.cells[1][1] = Edit::Hit(1.0);
        assert_eq!(layer, expected);
    }

    #[test]
    fn the_audio_thread_reads_what_the_store_publishes() {
        let (store, mut output) = EditStore::new();
        store.update(|l| l.mute[2] = true);
        assert!(output.read().mute[2]);
        store.set(EditLayer::default());
        assert!(!output.read().mute[2]);
    }
}
