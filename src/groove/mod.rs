//! Drum grooves from the groove VAE: latent points from knobs ([`knobs`]), decoding to 2-bar
//! patterns and, with the clip VAE, encoding clips ([`model`]; closely, [`refine`]), one
//! drummer's way of playing them ([`take`]), playing patterns as timed hits with swing and
//! humanize ([`pattern`]), switching patterns at bar lines in time with a host ([`schedule`]),
//! and MIDI files in and out ([`midi`]).
//!
//! A [`Pattern`] keeps the decoder's output (hit probability, velocity, micro-timing offset per
//! 16th step and drum lane) as a take played it; density, swing and humanize are applied when hits are read out, so
//! those knobs act instantly without another inference. Everything used while playing
//! ([`Pattern`], [`Feel`], [`hits_between`], [`schedule`]) is plain data and never allocates.

use std::ops::RangeInclusive;
use std::path::PathBuf;

use crate::infer::{InferenceError, ModelError};

pub mod knobs;
pub mod midi;
pub mod model;
pub mod pattern;
pub mod refine;
pub mod schedule;
pub mod take;

pub use knobs::{clip_variation, neighbour, phrase_plan, GrooveKnobs};
pub use midi::{lane_of_note, midi_file, patterns_from_midi, patterns_from_onsets};
pub use model::{GrooveModel, GrooveSpec, GrooveUse, SharedGrooveModel};
pub use pattern::{hits_between, Cell, Feel, Hit, Pattern};
pub use refine::{refine, REFINE_STEPS};
pub use take::{Spread, Take};

/// The groove VAE's decoder: grooves from seeds and knobs (the plugin, `latentforge groove`).
pub const DECODER_MODEL: &str = "groove-decoder";
/// The clip VAE, trained to give a clip back: `latentforge groove --from` encodes a clip with it
/// and decodes the clip and its variations with its decoder.
pub const CLIP_ENCODER_MODEL: &str = "groove-clip-encoder";
pub const CLIP_DECODER_MODEL: &str = "groove-clip-decoder";
pub const STEPS_PER_BAR: usize = 16;
pub const PATTERN_BARS: usize = 2;
pub const PATTERN_STEPS: usize = STEPS_PER_BAR * PATTERN_BARS;
/// Tempi the CLI, the presets and MIDI files accept, in BPM.
pub const BPM_RANGE: RangeInclusive<f64> = 20.0..=400.0;

// The lane table; `lanes.toml` holds the same for the training code (a test checks they agree).
pub const LANES: usize = 9;
pub const LANE_NAMES: [&str; LANES] =
    ["kick", "snare", "closed_hat", "open_hat", "low_tom", "mid_tom", "high_tom", "crash", "ride"];
/// General MIDI drum notes (channel 10) for each lane.
pub const GM_NOTES: [u8; LANES] = [36, 38, 42, 46, 45, 48, 50, 49, 51];
/// Every GM / Roland note a clip may use for each lane.
pub const NOTE_LANES: [&[u8]; LANES] = [
    &[36, 35],
    &[38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85],
    &[42, 44, 54, 68, 69, 70, 71, 73, 78, 80, 22],
    &[46, 67, 72, 74, 79, 81, 26],
    &[45, 29, 41, 43, 61, 64, 84],
    &[48, 47, 60, 63, 77, 86, 87],
    &[50, 30, 62, 76, 83],
    &[49, 52, 55, 57, 58],
    &[51, 53, 59, 82],
];

/// The latent macros the plugin and CLI expose.
pub const MACROS: usize = 8;
/// How far a macro at ±1 moves its latent dimension, in prior standard deviations.
pub const MACRO_REACH: f32 = 2.0;
/// How far a numbered variation strays from the seed's groove, in prior standard deviations.
pub const VARIATION_SPREAD: f32 = 0.45;

/// Lane groups: they lock together in the plugin, and each has its own output.
pub const LANE_GROUPS: [&[usize]; GROUPS] = [&[0], &[1], &[2, 3], &[4, 5, 6], &[7, 8]];
pub const GROUPS: usize = 5;
pub const GROUP_NAMES: [&str; GROUPS] = ["Kick", "Snare", "Hats", "Toms", "Cymbals"];
/// The group of each lane (the inverse of [`LANE_GROUPS`]).
pub const GROUP_OF_LANE: [usize; LANES] = {
    let mut out = [0; LANES];
    let mut g = 0;
    while g < GROUPS {
        let mut i = 0;
        while i < LANE_GROUPS[g].len() {
            out[LANE_GROUPS[g][i]] = g;
            i += 1;
        }
        g += 1;
    }
    out
};

#[derive(Debug, thiserror::Error)]
pub enum GrooveError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Inference(#[from] InferenceError),
    #[error("{path}: not a usable MIDI clip")]
    Clip {
        path: PathBuf,
        #[source]
        source: crate::io::limits::ProbeError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct LaneFile {
        lane: Vec<Lane>,
    }

    #[derive(serde::Deserialize)]
    struct Lane {
        name: String,
        gm_note: u8,
        notes: Vec<u8>,
    }

    #[test]
    fn every_lane_is_in_exactly_one_group() {
        let mut seen = [0; LANES];
        for (g, lanes) in LANE_GROUPS.iter().enumerate() {
            for &l in lanes.iter() {
                seen[l] += 1;
                assert_eq!(GROUP_OF_LANE[l], g);
            }
        }
        assert_eq!(seen, [1; LANES]);
    }

    #[test]
    fn lane_table_matches_the_file_the_training_code_reads() {
        let file: LaneFile = toml::from_str(include_str!("lanes.toml")).unwrap();
        assert_eq!(file.lane.len(), LANES);
        for (i, lane) in file.lane.iter().enumerate() {
            assert_eq!(lane.name, LANE_NAMES[i], "lane {i}");
            assert_eq!(lane.gm_note, GM_NOTES[i], "lane {i}");
            assert_eq!(lane.notes, NOTE_LANES[i], "lane {i}");
            assert_eq!(lane_of_note(lane.gm_note), Some(i), "a lane's own note maps back to it");
        }
    }
}
