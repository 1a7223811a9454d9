//! How a decoded pattern is played: the decoder gives each cell a hit probability and the mean
//! velocity and micro-timing of a hit there. Reading only its most likely hits (p > 0.5) at their
//! mean plays an average drummer: too even dynamics and timing, rare lanes (toms, open hats)
//! almost never (measured in the groove card). A seeded [`Take`] plays the pattern as one drummer
//! would: each lane busier or sparser than the average (one draw per lane and groove, so a lane
//! stays consistent through the groove), each hit's chance moved by a smaller draw of its own, and
//! each hit varied around its mean velocity and timing by the spread the decoder leaves unexplained
//! on the training data. The draws are logistic, the noise of a logit: a cell whose probability is
//! p plays in about p of all takes.

use super::pattern::{Pattern, LANE_THRESHOLD_LIMIT};
use super::{LANES, PATTERN_STEPS};
use crate::infer::latent;

/// Per lane, the standard deviation of played velocities, and of micro-timing offsets in 16ths,
/// around the decoder's means on the training split (measured at export; part of the model's
/// `[groove]` table): how far a seeded [`Take`] varies each hit.
#[derive(Debug, Clone, serde::Deserialize, PartialEq)]
pub struct Spread {
    pub velocity_spread: Vec<f32>,
    pub offset_spread: Vec<f32>,
}

/// Which drummer plays the decoded patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// The decoder's most likely hits at their mean velocity and timing: what `--from` plays, to
    /// give an encoded clip back.
    MostLikely,
    /// A seeded drummer: the same `seed` and `stream` always play the same way.
    Seeded { seed: u64, stream: u64 },
}

/// Keeps the takes' draws apart from the latent streams of the same seed.
const TAKE_STREAMS: u64 = 0x7a6b_0000_0000;
/// Weight of each hit's own draw beside its lane's, in logits. Chosen on the training code's
/// prior samples (models/train/groove/evaluate.py): the lane draw alone plays too few
/// syncopations (0.57 against the data's 0.75), with half a cell draw on top 0.68, at the same
/// kernel MMD.
const CELL_DRAW_WEIGHT: f64 = 0.5;

/// A uniform draw in (0, 1) read as a logit.
fn logit(u: f64) -> f64 {
    (u / (1.0 - u)).ln()
}

impl Take {
    /// Sets the lane thresholds of `patterns` (the phrases of one groove, in order), moves each
    /// cell's probability by its own draw and varies velocities and offsets. Every phrase shares
    /// the lane draws; each gets its own hits.
    pub fn apply(&self, spread: &Spread, patterns: &mut [Pattern]) {
        let Take::Seeded { seed, stream } = *self else { return };
        let base = TAKE_STREAMS + (stream << 8);
        let lane_draws = latent::uniforms(seed, base, LANES);
        let lane_threshold: [f32; LANES] =
            std::array::from_fn(|l| (logit(lane_draws[l]) as f32).clamp(-LANE_THRESHOLD_LIMIT, LANE_THRESHOLD_LIMIT));
        for (k, pattern) in patterns.iter_mut().enumerate() {
            pattern.lane_threshold = lane_threshold;
            let stream = base + 1 + 2 * k as u64;
            let cell_draws = latent::uniforms(seed, stream, PATTERN_STEPS * LANES);
            let noise = latent::normals(seed, stream + 1, 2 * PATTERN_STEPS * LANES);
            let (vel_noise, off_noise) = noise.split_at(PATTERN_STEPS * LANES);
            for (s, cells) in pattern.cells.iter_mut().enumerate() {
                for (l, cell) in cells.iter_mut().enumerate() {
                    let i = s * LANES + l;
                    // The hit's own draw moves its probability in logit space; the lane's
                    // threshold and the density knob then act on the result.
                    let p = (cell.prob as f64).clamp(1e-6, 1.0 - 1e-6);
                    let moved = logit(p) - CELL_DRAW_WEIGHT * logit(cell_draws[i]);
                    cell.prob = (1.0 / (1.0 + (-moved).exp())) as f32;
                    cell.velocity = (cell.velocity + spread.velocity_spread[l] * vel_noise[i]).clamp(1.0 / 127.0, 1.0);
                    cell.offset = (cell.offset + spread.offset_spread[l] * off_noise[i]).clamp(-0.5, 0.5);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::pattern::Cell;
    use super::*;

    fn spec() -> Spread {
        Spread { velocity_spread: vec![0.2; LANES], offset_spread: vec![0.1; LANES] }
    }

    fn flat() -> Pattern {
        let mut p = Pattern::default();
        for cells in p.cells.iter_mut() {
            *cells = [Cell { prob: 0.5, velocity: 0.5, offset: 0.0 }; LANES];
        }
        p
    }

    #[test]
    fn the_most_likely_take_changes_nothing() {
        let mut p = [flat()];
        Take::MostLikely.apply(&spec(), &mut p);
        assert_eq!(p[0], flat());
    }

    #[test]
    fn a_seeded_take_is_reproducible_and_shares_its_lanes_across_phrases() {
        let take = Take::Seeded { seed: 3, stream: 1 };
        let (mut a, mut b) = ([flat(), flat()], [flat(), flat()]);
        take.apply(&spec(), &mut a);
        take.apply(&spec(), &mut b);
        assert_eq!(a, b);
        assert_eq!(a[0].lane_threshold, a[1].lane_threshold, "one drummer through the groove");
        assert_ne!(a[0].cells, a[1].cells, "each phrase gets its own hits");
        assert!(a[0].lane_threshold.iter().any(|t| *t != 0.0));
        let mut other = [flat(), flat()];
        Take::Seeded { seed: 3, stream: 2 }.apply(&spec(), &mut other);
        assert_ne!(a[0].lane_threshold, other[0].lane_threshold);
    }

    #[test]
    fn a_seeded_take_varies_hits_by_the_measured_spread() {
        let mut p = [flat()];
        Take::Seeded { seed: 9, stream: 0 }.apply(&spec(), &mut p);
        let (mut vel, mut off) = (Vec::new(), Vec::new());
        for c in p[0].cells.iter().flatten() {
            assert!((1.0 / 127.0..=1.0).contains(&c.velocity) && (-0.5..=0.5).contains(&c.offset));
            vel.push(c.velocity - 0.5);
            off.push(c.offset);
        }
        let std = |x: &[f32]| (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
        assert!((std(&vel) - 0.2).abs() < 0.03, "velocity spread {}", std(&vel));
        assert!((std(&off) - 0.1).abs() < 0.015, "offset spread {}", std(&off));
    }
}
