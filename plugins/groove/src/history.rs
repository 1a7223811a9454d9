//! The variation history: the knobs of the last grooves the worker decoded, each with a small
//! thumbnail of its hits, favourites starred, saved with the project. Going back sets the knobs
//! again (host parameters, so it is automatable); the decoder is deterministic, so the same
//! groove comes back. Written by the worker and the editor, never by the audio thread.

use std::time::{Duration, Instant};

use latentforge::groove::{Pattern, LANES, MACROS, PATTERN_STEPS};
use serde::{Deserialize, Serialize};

/// Variations kept; the oldest unstarred one goes first.
pub const HISTORY_LEN: usize = 24;
/// Decodes closer together than this with the same seed and variation are one knob sweep: the
/// newest replaces the entry the sweep started.
const SWEEP: Duration = Duration::from_millis(1200);
/// How long a jump back waits for its own groove to be decoded, ignoring the knobs' way there.
const JUMP_TIMEOUT: Duration = Duration::from_secs(3);

/// The knobs (as the parameters hold them, before a preset applies) that made a groove.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Knobs {
    pub seed: i32,
    pub variation: u32,
    pub macros: [f32; MACROS],
    pub temperature: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Variation {
    pub knobs: Knobs,
    /// One bit per step for each lane: the hits at density 50 %.
    pub hits: [u32; LANES],
    #[serde(default)]
    pub starred: bool,
}

impl Variation {
    pub fn hit(&self, step: usize, lane: usize) -> bool {
        self.hits[lane] >> step & 1 == 1
    }
}

/// The thumbnail of `pattern`: its hits at density 50 %, one bit per step and lane.
pub fn thumbnail(pattern: &Pattern) -> [u32; LANES] {
    let plays = pattern.plays(0.5);
    let mut bits = [0u32; LANES];
    for (step, lanes) in plays.iter().enumerate().take(PATTERN_STEPS.min(32)) {
        for (lane, on) in lanes.iter().enumerate() {
            bits[lane] |= (*on as u32) << step;
        }
    }
    bits
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct History {
    pub entries: Vec<Variation>,
    /// The entry playing now.
    #[serde(default)]
    pub current: usize,
    #[serde(skip)]
    last_record: Option<(Instant, bool)>,
    #[serde(skip)]
    jumping_to: Option<(Knobs, Instant)>,
}

impl History {
    /// The worker decoded `pattern` from `knobs`.
    pub fn record(&mut self, knobs: Knobs, pattern: &Pattern, now: Instant) {
        if let Some((target, since)) = self.jumping_to {
            if knobs != target && now.duration_since(since) < JUMP_TIMEOUT {
                // A step on the way back to an entry (parameters arrive one by one).
                return;
            }
            self.jumping_to = None;
        }
        if let Some(i) = self.entries.iter().position(|e| e.knobs == knobs) {
            self.current = i;
            self.last_record = Some((now, false));
            return;
        }
        let entry = Variation { knobs, hits: thumbnail(pattern), starred: false };
        let sweeping = match (self.last_record, self.entries.last()) {
            (Some((at, appended)), Some(last)) => {
                appended
                    && now.duration_since(at) < SWEEP
                    && !last.starred
                    && self.current + 1 == self.entries.len()
                    && (last.knobs.seed, last.knobs.variation) == (knobs.seed, knobs.variation)
            }
            _ => false,
        };
        if sweeping {
            *self.entries.last_mut().expect("checked above") = entry;
        } else {
            self.entries.push(entry);
            if self.entries.len() > HISTORY_LEN {
                let oldest = self.entries.iter().position(|e| !e.starred).unwrap_or(0);
                self.entries.remove(oldest);
            }
        }
        self.current = self.entries.len() - 1;
        self.last_record = Some((now, true));
    }

    /// Makes entry `index` the current one; returns the knobs to set, if it exists.
    pub fn jump(&mut self, index: usize, now: Instant) -> Option<Knobs> {
        let knobs = self.entries.get(index)?.knobs;
        self.current = index;
        self.jumping_to = Some((knobs, now));
        self.last_record = None;
        Some(knobs)
    }

    /// One variation back (undo) or forward (redo).
    pub fn step(&mut self, forward: bool, now: Instant) -> Option<Knobs> {
        let target = if forward { self.current.checked_add(1)? } else { self.current.checked_sub(1)? };
        self.jump(target, now)
    }

    pub fn toggle_star(&mut self, index: usize) {
        if let Some(e) = self.entries.get_mut(index) {
            e.starred = !e.starred;
        }
    }

    /// A saved history is untrusted: too many entries, a current index outside them and
    /// non-finite knobs are repaired.
    pub fn sanitized(mut self) -> History {
        self.entries.retain(|e| e.knobs.temperature.is_finite() && e.knobs.macros.iter().all(|m| m.is_finite()));
        if self.entries.len() > HISTORY_LEN {
            let drop = self.entries.len() - HISTORY_LEN;
            self.entries.drain(..drop);
        }
        self.current = self.current.min(self.entries.len().saturating_sub(1));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latentforge::groove::Cell;

    fn knobs(seed: i32, variation: u32, m: f32) -> Knobs {
        Knobs { seed, variation, macros: [m; MACROS], temperature: 1.0 }
    }

    fn pattern(step: usize) -> Pattern {
        let mut p = Pattern::default();
        p.cells[step][0] = Cell { prob: 0.9, velocity: 0.5, offset: 0.0 };
        p
    }

    #[test]
    fn variations_are_kept_and_a_sweep_is_one_entry() {
        let t = Instant::now();
        let mut h = History::default();
        h.record(knobs(1, 0, 0.0), &pattern(0), t);
        h.record(knobs(1, 1, 0.0), &pattern(1), t + Duration::from_secs(5));
        // A macro sweep: three decodes within the sweep window.
        for (i, ms) in [100u64, 200, 300].iter().enumerate() {
            h.record(knobs(1, 1, 0.1 * (i + 1) as f32), &pattern(2 + i), t + Duration::from_millis(5000 + ms));
        }
        assert_eq!(h.entries.len(), 2);
        assert_eq!(h.entries[1].knobs, knobs(1, 1, 0.3));
        assert!(h.entries[1].hit(4, 0) && !h.entries[1].hit(1, 0), "the thumbnail is the newest pattern's");
        assert_eq!(h.current, 1);
    }

    #[test]
    fn undo_and_redo_step_one_variation_and_ignore_the_way_back() {
        let t = Instant::now();
        let mut h = History::default();
        for v in 0..3 {
            h.record(knobs(1, v, 0.0), &pattern(v as usize), t + Duration::from_secs(5 * v as u64));
        }
        let later = t + Duration::from_secs(60);
        assert_eq!(h.step(false, later), Some(knobs(1, 1, 0.0)));
        // The host applies the parameters one at a time: decodes on the way are not new entries.
        h.record(knobs(7, 2, 0.0), &pattern(9), later + Duration::from_millis(10));
        h.record(knobs(1, 1, 0.0), &pattern(1), later + Duration::from_millis(20));
        assert_eq!((h.entries.len(), h.current), (3, 1));
        assert_eq!(h.step(true, later), Some(knobs(1, 2, 0.0)));
        assert_eq!(h.step(true, later), None, "nothing to redo past the newest");
        assert_eq!(h.current, 2);
    }

    #[test]
    fn starred_entries_outlive_the_limit() {
        let t = Instant::now();
        let mut h = History::default();
        h.record(knobs(1, 0, 0.0), &pattern(0), t);
        h.toggle_star(0);
        for v in 1..(HISTORY_LEN as u32 + 10) {
            h.record(knobs(1, v, 0.0), &pattern(1), t + Duration::from_secs(5 * v as u64));
        }
        assert_eq!(h.entries.len(), HISTORY_LEN);
        assert!(h.entries[0].starred && h.entries[0].knobs == knobs(1, 0, 0.0));
        let json = serde_json::to_string(&h).unwrap();
        let back: History = serde_json::from_str::<History>(&json).unwrap().sanitized();
        assert_eq!(back.entries, h.entries);
        let hostile = r#"{"entries":[],"current":99}"#;
        assert_eq!(serde_json::from_str::<History>(hostile).unwrap().sanitized().current, 0);
    }
}
