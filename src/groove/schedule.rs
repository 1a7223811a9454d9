//! Playing in time with a host: where each audio block sits on the beat timeline ([`Clock`]) and
//! which pattern each bar plays ([`PatternSchedule`]). A new pattern never cuts into a bar that
//! has started: it waits for the next bar line none of whose hits can have sounded yet. Both
//! types are plain data and never allocate, so the plugin calls them from `process()`.

use super::pattern::Pattern;

/// Fastest tempo followed, in BPM; a host reporting more is taken as this.
const MAX_TEMPO: f64 = 999.0;
/// Early hits reach this far before their bar line, in beats (half a 16th step).
const EARLY_REACH: f64 = 0.125;
/// A pattern that replaces another plays from this far past its bar line, in beats: by then every
/// late hit of the bar before it has sounded (half a 16th step, plus a step of margin).
const LATE_REACH: f64 = 0.25;
const BEATS_PER_BAR: f64 = 4.0;

/// One audio block on the beat timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Block {
    pub start_beat: f64,
    pub end_beat: f64,
    /// The tempo the block plays at, in BPM.
    pub tempo: f64,
    pub beats_per_sample: f64,
    /// The block does not continue the previous one (a loop, a locate, a restart).
    pub jumped: bool,
}

/// Follows the host's transport while it plays and free-runs at the last tempo while it is
/// stopped, so the groove keeps going.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clock {
    tempo: f64,
    free_beat: f64,
    last_end: Option<f64>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock { tempo: 120.0, free_beat: 0.0, last_end: None }
    }
}

impl Clock {
    /// The next block of `samples` at `sample_rate`. `host_tempo` is the host's tempo when it
    /// reports one; `host_beat` its position when the transport plays.
    pub fn next_block(
        &mut self,
        host_tempo: Option<f64>,
        host_beat: Option<f64>,
        samples: usize,
        sample_rate: f64,
    ) -> Block {
        if let Some(t) = host_tempo.filter(|t| t.is_finite() && *t > 1.0) {
            self.tempo = t.min(MAX_TEMPO);
        }
        let start_beat = host_beat.filter(|b| b.is_finite()).unwrap_or(self.free_beat);
        let beats_per_sample = self.tempo / 60.0 / sample_rate;
        let end_beat = start_beat + beats_per_sample * samples as f64;
        let jumped = self.last_end.is_some_and(|e| (e - start_beat).abs() > 1e-6);
        self.free_beat = end_beat;
        self.last_end = Some(end_beat);
        Block { start_beat, end_beat, tempo: self.tempo, beats_per_sample, jumped }
    }

    /// Forgets the previous block (the host reset the plugin), so the next is not a jump.
    pub fn reset(&mut self) {
        self.last_end = None;
    }
}

/// The playing pattern and the one waiting for its bar.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PatternSchedule {
    current: Pattern,
    has_pattern: bool,
    pending: Option<(Pattern, i64)>,
}

impl PatternSchedule {
    /// The pattern playing now (a waiting one is not playing yet).
    pub fn current(&self) -> &Pattern {
        &self.current
    }

    /// Schedules a new pattern at `now_beat`: at once when nothing plays yet (rather than a bar
    /// of silence), else from the first bar none of whose hits can have started.
    pub fn offer(&mut self, pattern: Pattern, now_beat: f64) {
        if !self.has_pattern {
            self.current = pattern;
            self.has_pattern = true;
        } else {
            let bar = ((now_beat + EARLY_REACH) / BEATS_PER_BAR).floor() as i64 + 1;
            self.pending = Some((pattern, bar));
        }
    }

    /// The pattern waiting for its bar line, and that bar.
    pub fn pending(&self) -> Option<(&Pattern, i64)> {
        self.pending.as_ref().map(|(p, bar)| (p, *bar))
    }

    /// The transport jumped: there is no bar line to wait for, a waiting pattern plays now.
    pub fn jump(&mut self) {
        if let Some((p, _)) = self.pending.take() {
            self.current = p;
        }
    }

    /// The pattern bar `bar` plays.
    pub fn pattern_for_bar(&self, bar: i64) -> &Pattern {
        match &self.pending {
            Some((p, from)) if bar >= *from => p,
            _ => &self.current,
        }
    }

    /// Call after a block ending at `end_beat` is played: the waiting pattern becomes the current
    /// one once every hit of the bars before it is behind us.
    pub fn finish_block(&mut self, end_beat: f64) {
        if let Some((p, from)) = self.pending {
            if end_beat >= from as f64 * BEATS_PER_BAR + LATE_REACH {
                self.current = p;
                self.pending = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::pattern::Cell;
    use super::*;

    fn pattern(prob: f32) -> Pattern {
        let mut p = Pattern::default();
        p.cells[0][0] = Cell { prob, velocity: 1.0, offset: 0.0 };
        p
    }

    #[test]
    fn clock_follows_the_host_and_free_runs_when_stopped() {
        let mut c = Clock::default();
        let b = c.next_block(Some(60.0), Some(8.0), 480, 48_000.0);
        assert_eq!((b.start_beat, b.tempo, b.jumped), (8.0, 60.0, false));
        assert!((b.end_beat - 8.01).abs() < 1e-12);
        // Stopped: continues from where the last block ended, at the last tempo.
        let s = c.next_block(None, None, 480, 48_000.0);
        assert_eq!((s.start_beat, s.tempo, s.jumped), (b.end_beat, 60.0, false));
        // A locate is a jump; silly tempi are ignored or capped.
        let j = c.next_block(Some(f64::NAN), Some(0.0), 480, 48_000.0);
        assert!(j.jumped && j.tempo == 60.0);
        assert_eq!(c.next_block(Some(5000.0), None, 1, 48_000.0).tempo, MAX_TEMPO);
        c.reset();
        assert!(!c.next_block(None, Some(100.0), 1, 48_000.0).jumped, "no jump right after a reset");
    }

    #[test]
    fn first_pattern_plays_at_once_and_later_ones_wait_for_their_bar() {
        let (a, b) = (pattern(0.1), pattern(0.2));
        let mut s = PatternSchedule::default();
        s.offer(a, 5.0);
        assert_eq!(s.pattern_for_bar(1), &a, "nothing was playing: no bar of silence");
        // At beat 5.0 bar 1 has started: b waits for bar 2 (beat 8).
        s.offer(b, 5.0);
        assert_eq!((s.pattern_for_bar(1), s.pattern_for_bar(2)), (&a, &b));
        assert_eq!(s.current(), &a);
        s.finish_block(8.1);
        assert_eq!(s.current(), &a, "late hits of bar 1 may still sound");
        s.finish_block(8.25);
        assert_eq!(s.current(), &b);
    }

    #[test]
    fn a_pattern_offered_just_before_a_bar_line_waits_one_more_bar() {
        let (a, b) = (pattern(0.1), pattern(0.2));
        let mut s = PatternSchedule::default();
        s.offer(a, 0.0);
        // Beat 7.9: the early hits of bar 2 (from beat 7.875) may have started.
        s.offer(b, 7.9);
        assert_eq!((s.pattern_for_bar(2), s.pattern_for_bar(3)), (&a, &b));
    }

    #[test]
    fn a_jump_starts_the_waiting_pattern_now() {
        let (a, b) = (pattern(0.1), pattern(0.2));
        let mut s = PatternSchedule::default();
        s.offer(a, 0.0);
        s.offer(b, 1.0);
        s.jump();
        assert_eq!((s.current(), s.pattern_for_bar(0)), (&b, &b));
        s.jump();
        assert_eq!(s.current(), &b, "nothing waiting: nothing changes");
    }
}
