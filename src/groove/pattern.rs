//! 2-bar patterns as the decoder made them, and how they are played: [`Feel`] (density, swing,
//! humanize) is applied when hits are read out with [`hits_between`], so those knobs act
//! instantly without another inference. Everything here is plain `Copy` data and never allocates.

use super::{LANES, PATTERN_STEPS, STEPS_PER_BAR};

/// One step of one lane, as the decoder produced it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cell {
    /// Probability that this lane is hit on this step, as the decoder gave it and a seeded
    /// take ([`super::Take`]) moved it.
    pub prob: f32,
    /// Velocity in (0, 1].
    pub velocity: f32,
    /// Played onset relative to the grid, in steps, in [-0.5, 0.5].
    pub offset: f32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pattern {
    pub cells: [[Cell; LANES]; PATTERN_STEPS],
    /// Per lane, the logit a cell's hit probability must exceed at density 0.5: 0 plays the
    /// decoder's most likely hits; a take drawn by [`super::Take`] plays some lanes busier
    /// (below 0) and others sparser (above 0), as one drummer would.
    pub lane_threshold: [f32; LANES],
}

impl Default for Pattern {
    fn default() -> Self {
        Pattern { cells: [[Cell::default(); LANES]; PATTERN_STEPS], lane_threshold: [0.0; LANES] }
    }
}

impl Pattern {
    /// Copies the lanes of `group` from `other` (a locked lane keeps playing what it played).
    pub fn keep_lanes(&mut self, other: &Pattern, lanes: &[usize]) {
        for (mine, theirs) in self.cells.iter_mut().zip(other.cells.iter()) {
            for &lane in lanes {
                mine[lane] = theirs[lane];
            }
        }
        for &lane in lanes {
            self.lane_threshold[lane] = other.lane_threshold[lane];
        }
    }

    /// Number of hits per lane at this density.
    pub fn hit_counts(&self, density: f32) -> [usize; LANES] {
        let t = self.hit_thresholds(density);
        let mut n = [0; LANES];
        for step in &self.cells {
            for (lane, c) in step.iter().enumerate() {
                n[lane] += (c.prob > t[lane]) as usize;
            }
        }
        n
    }

    /// Which cells play at this density (what an editor draws as hits).
    pub fn plays(&self, density: f32) -> [[bool; LANES]; PATTERN_STEPS] {
        let t = self.hit_thresholds(density);
        self.cells.map(|step| std::array::from_fn(|lane| step[lane].prob > t[lane]))
    }

    /// The probability each lane's cells must exceed to play at this density.
    pub fn hit_thresholds(&self, density: f32) -> [f32; LANES] {
        self.thresholds(&Feel { density, ..Feel::default() }.sanitized())
    }

    /// The probability each lane's cells must exceed to play at this feel's density.
    fn thresholds(&self, feel: &Feel) -> [f32; LANES] {
        let shift = feel.logit_shift();
        self.lane_threshold.map(|t| {
            let t = if t.is_finite() { t.clamp(-LANE_THRESHOLD_LIMIT, LANE_THRESHOLD_LIMIT) } else { 0.0 };
            1.0 / (1.0 + (-(t + shift)).exp())
        })
    }

    /// Pattern from a grid of (hit, velocity, offset) per step and lane, e.g. an encoded clip.
    pub fn from_grid(grid: &[[f32; 3 * LANES]; PATTERN_STEPS]) -> Self {
        let mut p = Pattern::default();
        for (cells, row) in p.cells.iter_mut().zip(grid) {
            for (lane, c) in cells.iter_mut().enumerate() {
                *c = Cell { prob: row[lane], velocity: row[LANES + lane], offset: row[2 * LANES + lane] };
            }
        }
        p
    }
}

/// How far a lane's threshold may move from the decoder's most likely hits, in logits.
pub const LANE_THRESHOLD_LIMIT: f32 = 6.0;

/// How a pattern is played: knobs applied at read-out time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Feel {
    /// 0..1; 0.5 plays the pattern's own hits, lower thins them out, higher adds likely ones.
    pub density: f32,
    /// 0..1; delays every second 16th by up to a third of a step (a triplet shuffle at 1).
    pub swing: f32,
    /// 0..1; how much of the model's micro-timing is played (0 = on the grid).
    pub humanize_timing: f32,
    /// 0..1; how much of the model's dynamics is played (0 = every hit at the same velocity).
    pub humanize_velocity: f32,
}

impl Default for Feel {
    fn default() -> Self {
        Feel { density: 0.5, swing: 0.0, humanize_timing: 1.0, humanize_velocity: 1.0 }
    }
}

/// Velocity every hit gets when humanize velocity is 0.
const FLAT_VELOCITY: f32 = 0.8;

impl Feel {
    /// Density shifts every lane's decision boundary in logit space, by up to ±4.
    fn logit_shift(&self) -> f32 {
        (0.5 - self.density.clamp(0.0, 1.0)) * 8.0
    }

    fn sanitized(&self) -> Feel {
        let unit = |v: f32| if v.is_finite() { v.clamp(0.0, 1.0) } else { 0.0 };
        Feel {
            density: if self.density.is_finite() { self.density.clamp(0.0, 1.0) } else { 0.5 },
            swing: unit(self.swing),
            humanize_timing: unit(self.humanize_timing),
            humanize_velocity: unit(self.humanize_velocity),
        }
    }
}

/// A hit ready to play.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub lane: usize,
    /// Global step index (16ths since beat 0) the hit belongs to.
    pub step: i64,
    /// Onset in quarter-note beats since beat 0.
    pub beat: f64,
    pub velocity: f32,
}

/// Calls `emit` for every hit whose onset lies in `[start_beat, end_beat)`, in step order.
/// `pattern_for_bar` says which pattern plays each bar (bar 0 starts at beat 0); patterns loop
/// every [`PATTERN_BARS`]. A hit belongs to its grid step, so a hit played early (negative offset)
/// is taken from the pattern of the bar it belongs to, never twice and never lost at a switch.
pub fn hits_between<'a>(
    start_beat: f64,
    end_beat: f64,
    feel: &Feel,
    pattern_for_bar: impl Fn(i64) -> &'a Pattern,
    mut emit: impl FnMut(Hit),
) {
    if !(start_beat.is_finite() && end_beat.is_finite()) || end_beat <= start_beat {
        return;
    }
    let feel = feel.sanitized();
    let first = (start_beat * 4.0).floor() as i64 - 1;
    let last = (end_beat * 4.0).ceil() as i64 + 1;
    for step in first..=last {
        let bar = step.div_euclid(STEPS_PER_BAR as i64);
        let pattern = pattern_for_bar(bar);
        let threshold = pattern.thresholds(&feel);
        let index = step.rem_euclid(PATTERN_STEPS as i64) as usize;
        let swing = if step.rem_euclid(2) == 1 { feel.swing / 3.0 } else { 0.0 };
        for (lane, cell) in pattern.cells[index].iter().enumerate() {
            // A NaN probability is no hit.
            if cell.prob.is_nan() || cell.prob <= threshold[lane] {
                continue;
            }
            let offset = if cell.offset.is_finite() { cell.offset.clamp(-0.5, 0.5) } else { 0.0 };
            let beat = (step as f64 + (swing + feel.humanize_timing * offset) as f64) / 4.0;
            if beat >= start_beat && beat < end_beat {
                let v = if cell.velocity.is_finite() { cell.velocity } else { FLAT_VELOCITY };
                let velocity = FLAT_VELOCITY + feel.humanize_velocity * (v - FLAT_VELOCITY);
                emit(Hit { lane, step, beat, velocity: velocity.clamp(1.0 / 127.0, 1.0) });
            }
        }
    }
}

/// A test pattern: a likely hit (velocity 0.5) at each (step, lane, offset).
#[cfg(test)]
pub(crate) fn pattern_with(hits: &[(usize, usize, f32)]) -> Pattern {
    let mut p = Pattern::default();
    for &(step, lane, offset) in hits {
        p.cells[step][lane] = Cell { prob: 0.9, velocity: 0.5, offset };
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_land_on_the_grid_without_humanize() {
        let p = pattern_with(&[(0, 0, 0.3), (4, 1, -0.2), (31, 2, 0.0)]);
        let feel = Feel { humanize_timing: 0.0, ..Feel::default() };
        let mut got = Vec::new();
        hits_between(0.0, 16.0, &feel, |_| &p, |h| got.push((h.lane, h.beat)));
        assert_eq!(got, vec![(0, 0.0), (1, 1.0), (2, 7.75), (0, 8.0), (1, 9.0), (2, 15.75)]);
    }

    #[test]
    fn blocks_split_anywhere_give_the_same_hits() {
        let p = pattern_with(&[(0, 0, -0.4), (3, 1, 0.45), (16, 0, -0.5), (17, 2, 0.2)]);
        let feel = Feel { swing: 0.7, ..Feel::default() };
        let mut whole = Vec::new();
        hits_between(-1.0, 24.0, &feel, |_| &p, |h| whole.push(h));
        let mut pieces = Vec::new();
        let mut t: f64 = -1.0;
        while t < 24.0 {
            let end = (t + 0.037).min(24.0);
            hits_between(t, end, &feel, |_| &p, |h| pieces.push(h));
            t = end;
        }
        assert_eq!(whole, pieces);
        assert!(whole.iter().any(|h| h.beat < 0.0), "an early hit of bar 0 plays before beat 0");
    }

    #[test]
    fn a_switch_between_patterns_never_doubles_or_drops_a_step() {
        let a = pattern_with(&[(0, 0, 0.4)]);
        let b = pattern_with(&[(0, 0, -0.4)]);
        let feel = Feel::default();
        // bars 0-1 play a, bars 2.. play b: the hit of step 32 comes from b, early.
        let mut got = Vec::new();
        hits_between(
            0.0,
            12.0,
            &feel,
            |bar| if bar < 2 { &a } else { &b },
            |h| got.push((h.step, (h.beat * 1000.0).round())),
        );
        assert_eq!(got, vec![(0, 100.0), (32, 7900.0)]);
    }

    #[test]
    fn density_and_velocity_knobs() {
        let mut p = Pattern::default();
        p.cells[0][0] = Cell { prob: 0.3, velocity: 0.2, offset: 0.0 };
        p.cells[1][0] = Cell { prob: 0.7, velocity: 1.0, offset: 0.0 };
        assert_eq!(p.hit_counts(0.5)[0], 1);
        assert_eq!(p.hit_counts(0.0)[0], 0);
        assert_eq!(p.hit_counts(1.0)[0], 2);
        let flat = Feel { humanize_velocity: 0.0, density: 1.0, ..Feel::default() };
        let mut v = Vec::new();
        hits_between(0.0, 1.0, &flat, |_| &p, |h| v.push(h.velocity));
        assert_eq!(v, vec![FLAT_VELOCITY, FLAT_VELOCITY]);
    }

    #[test]
    fn a_lane_threshold_makes_its_lane_busier_or_sparser_and_density_still_works() {
        let mut p = Pattern::default();
        for s in 0..4 {
            p.cells[s][0] = Cell { prob: 0.2 + 0.2 * s as f32, velocity: 0.5, offset: 0.0 };
            p.cells[s][1] = p.cells[s][0];
            p.cells[s][2] = p.cells[s][0];
        }
        assert_eq!(&p.hit_counts(0.5)[..3], &[2, 2, 2], "threshold 0: p > 0.5");
        p.lane_threshold[0] = -1.0; // p > 0.27: busier
        p.lane_threshold[1] = 1.0; // p > 0.73: sparser
        assert_eq!(&p.hit_counts(0.5)[..2], &[3, 1]);
        assert_eq!(&p.hit_counts(1.0)[..2], &[4, 4], "density 1 lowers every lane's bar");
        assert_eq!(&p.hit_counts(0.0)[..2], &[0, 0]);
        let mut hits = Vec::new();
        hits_between(0.0, 1.0, &Feel::default(), |_| &p, |h| hits.push((h.step, h.lane)));
        assert_eq!(hits, vec![(1, 0), (2, 0), (2, 2), (3, 0), (3, 1), (3, 2)], "play-out agrees with the counts");

        let mut locked = Pattern::default();
        locked.keep_lanes(&p, &[1]);
        assert_eq!(locked.lane_threshold[..2], [0.0, 1.0], "a locked lane keeps its threshold");
        p.lane_threshold[2] = f32::NAN;
        assert_eq!(p.hit_counts(0.5)[2], 2, "a NaN threshold counts as 0");
    }

    #[test]
    fn non_finite_knobs_and_cells_are_harmless() {
        let mut p = pattern_with(&[(0, 0, f32::NAN)]);
        p.cells[0][0].velocity = f32::INFINITY;
        let feel = Feel { density: f32::NAN, swing: f32::INFINITY, humanize_timing: f32::NAN, humanize_velocity: -1.0 };
        let mut got = Vec::new();
        hits_between(0.0, 4.0, &feel, |_| &p, |h| got.push(h));
        assert_eq!(got.len(), 1);
        assert!(got[0].beat.is_finite() && got[0].velocity.is_finite());
        hits_between(f64::NAN, 4.0, &feel, |_| &p, |_| panic!("no hits for a NaN range"));
    }
}
