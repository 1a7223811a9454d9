//! Follow: the drum notes played into the plugin, kept on the audio thread in a fixed ring (no
//! allocation), and the 2 bars before a bar line handed to the worker as a [`Clip`], which the
//! worker encodes with the clip VAE (as `latentforge groove --from` does) to play variations of.

use latentforge::groove::{lane_of_note, PATTERN_BARS, STEPS_PER_BAR};

/// Most hits one 2-bar clip carries (every 16th on every lane is 288; real playing is far less).
pub const CLIP_HITS: usize = 128;
/// Hits remembered: a few bars of busy playing.
const RING: usize = 512;
const BEATS_PER_BAR: f64 = 4.0;
const STEPS_PER_BEAT: f64 = STEPS_PER_BAR as f64 / BEATS_PER_BAR;

/// One hit of a clip: its position in 16th steps from the clip's start, lane and velocity.
pub type ClipHit = (f32, u8, f32);

/// Two bars of played drums, plain `Copy` data for the worker's queue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clip {
    pub hits: [ClipHit; CLIP_HITS],
    pub count: usize,
}

impl Clip {
    pub fn hits(&self) -> &[ClipHit] {
        &self.hits[..self.count]
    }
}

/// The last hits played into the plugin, by beat.
pub struct Recorder {
    ring: [(f64, u8, f32); RING],
    next: usize,
    len: usize,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder { ring: [(0.0, 0, 0.0); RING], next: 0, len: 0 }
    }
}

impl Recorder {
    /// Keeps a note-on at `beat` if it is a drum note (General MIDI / Roland kit numbers).
    pub fn note_on(&mut self, beat: f64, key: u8, velocity: f32) {
        let Some(lane) = lane_of_note(key) else { return };
        self.ring[self.next] = (beat, lane as u8, velocity.clamp(0.0, 1.0));
        self.next = (self.next + 1) % RING;
        self.len = (self.len + 1).min(RING);
    }

    /// Forgets every hit (a jump on the timeline: what was played no longer lines up).
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// The hits of the 2 bars before bar `bar`'s line, or `None` when nothing was played there.
    pub fn clip_before(&self, bar: i64) -> Option<Clip> {
        let end = bar as f64 * BEATS_PER_BAR;
        let start = end - PATTERN_BARS as f64 * BEATS_PER_BAR;
        let mut clip = Clip { hits: [(0.0, 0, 0.0); CLIP_HITS], count: 0 };
        for k in 0..self.len {
            let (beat, lane, velocity) = self.ring[(self.next + RING - self.len + k) % RING];
            // Half a step early still counts as the first step (a player ahead of the beat).
            let step = (beat - start) * STEPS_PER_BEAT;
            if step >= -0.5 && step < (PATTERN_BARS * STEPS_PER_BAR) as f64 - 0.5 && clip.count < CLIP_HITS {
                clip.hits[clip.count] = (step as f32, lane, velocity);
                clip.count += 1;
            }
        }
        (clip.count > 0).then_some(clip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_bars_before_a_bar_line_make_the_clip() {
        let mut r = Recorder::default();
        r.note_on(3.5, 36, 1.0); // bar 0: before the clip of bars 1-2
        r.note_on(3.9, 36, 0.6); // a hair early for bar 1's first beat: step 0
        r.note_on(4.0, 36, 0.9); // bar 1, beat 1: step 0
        r.note_on(5.0, 38, 0.8); // bar 1, beat 2: step 4
        r.note_on(11.7, 42, 0.7); // bar 2, late: step 30.8
        r.note_on(11.95, 36, 0.7); // early for bar 3: not in this clip
        r.note_on(11.99, 100, 0.7); // not a drum note
        let clip = r.clip_before(3).unwrap();
        let steps: Vec<f32> = clip.hits().iter().map(|h| (h.0 * 10.0).round() / 10.0).collect();
        assert_eq!(steps, [-0.4, 0.0, 4.0, 30.8], "{:?}", clip.hits());
        assert_eq!(clip.hits()[1], (0.0, lane_of_note(36).unwrap() as u8, 0.9));
        assert!(r.clip_before(10).is_none());
        r.clear();
        assert!(r.clip_before(3).is_none());
    }
}
