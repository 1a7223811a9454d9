//! Drum grooves from the groove VAE: latent sampling from knobs, decoding to 2-bar patterns,
//! encoding MIDI clips, and turning patterns into timed hits with swing and humanize.
//!
//! A [`Pattern`] keeps the decoder's raw output (hit probability, velocity, micro-timing offset per
//! 16th step and drum lane); density, swing and humanize are applied when hits are read out, so
//! those knobs act instantly without another inference. Everything used while playing
//! ([`Pattern`], [`Feel`], [`hits_between`]) is plain `Copy` data and never allocates.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::models::{GrooveSpec, LoadError, ModelEntry, ModelError, ModelStore};
use crate::runtime::{Runtime, SharedSession};

pub const ENCODER_MODEL: &str = "groove-encoder";
pub const DECODER_MODEL: &str = "groove-decoder";
pub const STEPS_PER_BAR: usize = 16;
pub const PATTERN_BARS: usize = 2;
pub const PATTERN_STEPS: usize = STEPS_PER_BAR * PATTERN_BARS;
pub const LANES: usize = 9;
pub const LANE_NAMES: [&str; LANES] =
    ["kick", "snare", "closed_hat", "open_hat", "low_tom", "mid_tom", "high_tom", "crash", "ride"];
/// General MIDI drum notes (channel 10) for each lane.
pub const GM_NOTES: [u8; LANES] = [36, 38, 42, 46, 45, 48, 50, 49, 51];
/// The latent macros the plugin and CLI expose.
pub const MACROS: usize = 8;
/// How far a macro at ±1 moves its latent dimension, in prior standard deviations.
pub const MACRO_REACH: f32 = 2.0;
/// How far a numbered variation strays from the seed's groove, in prior standard deviations.
pub const VARIATION_SPREAD: f32 = 0.45;

/// Lanes that lock together in the plugin (kick, snare, hats, toms, cymbals).
pub const LOCK_GROUPS: [&[usize]; 5] = [&[0], &[1], &[2, 3], &[4, 5, 6], &[7, 8]];

#[derive(Debug, thiserror::Error)]
pub enum GrooveError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("{path}: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("{model}: inference failed: {reason}")]
    Inference { model: String, reason: String },
    #[error("{path}: not a usable MIDI clip: {reason}")]
    Clip { path: PathBuf, reason: String },
}

/// One step of one lane, as the decoder produced it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cell {
    /// Probability that this lane is hit on this step.
    pub prob: f32,
    /// Velocity in (0, 1].
    pub velocity: f32,
    /// Played onset relative to the grid, in steps, in [-0.5, 0.5].
    pub offset: f32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pattern {
    pub cells: [[Cell; LANES]; PATTERN_STEPS],
}

impl Default for Pattern {
    fn default() -> Self {
        Pattern { cells: [[Cell::default(); LANES]; PATTERN_STEPS] }
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
    }

    /// Number of hits per lane at this density.
    pub fn hit_counts(&self, density: f32) -> [usize; LANES] {
        let t = Feel { density, ..Feel::default() }.threshold();
        let mut n = [0; LANES];
        for step in &self.cells {
            for (lane, c) in step.iter().enumerate() {
                n[lane] += (c.prob > t) as usize;
            }
        }
        n
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

/// How a pattern is played: knobs applied at read-out time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Feel {
    /// 0..1; 0.5 plays the decoder's own hits, lower thins them out, higher adds likely ones.
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
    /// Probability threshold: density shifts the decision boundary in logit space.
    pub fn threshold(&self) -> f32 {
        let shift = (0.5 - self.density.clamp(0.0, 1.0)) * 8.0;
        1.0 / (1.0 + (-shift).exp())
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
    let threshold = feel.threshold();
    let first = (start_beat * 4.0).floor() as i64 - 1;
    let last = (end_beat * 4.0).ceil() as i64 + 1;
    for step in first..=last {
        let bar = step.div_euclid(STEPS_PER_BAR as i64);
        let pattern = pattern_for_bar(bar);
        let index = step.rem_euclid(PATTERN_STEPS as i64) as usize;
        let swing = if step.rem_euclid(2) == 1 { feel.swing / 3.0 } else { 0.0 };
        for (lane, cell) in pattern.cells[index].iter().enumerate() {
            if !(cell.prob > threshold) {
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

/// The knobs that choose a point in the groove latent space. Plain data: the plugin sends it from
/// the audio thread to the inference thread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GrooveKnobs {
    pub seed: u64,
    /// 0 is the seed's own groove; 1, 2, … are its variations.
    pub variation: u32,
    /// Each in -1..1; moves one of the decoder's most used latent dimensions.
    pub macros: [f32; MACROS],
    /// Scales the sampled latent (0 = the average groove, 1 = the prior, >1 = wilder).
    pub temperature: f32,
}

impl Default for GrooveKnobs {
    fn default() -> Self {
        GrooveKnobs { seed: 1, variation: 0, macros: [0.0; MACROS], temperature: 1.0 }
    }
}

impl GrooveKnobs {
    /// The latent vector these knobs select, for a decoder with `spec`.
    pub fn latent(&self, spec: &GrooveSpec) -> Vec<f32> {
        let t = if self.temperature.is_finite() { self.temperature.clamp(0.0, 3.0) } else { 1.0 };
        let mut z = crate::latent::normals(self.seed, 0, spec.latent);
        if self.variation > 0 {
            let v = crate::latent::normals(self.seed, self.variation as u64, spec.latent);
            for (a, b) in z.iter_mut().zip(v) {
                *a += VARIATION_SPREAD * b;
            }
        }
        for a in z.iter_mut() {
            *a *= t;
        }
        for (m, &dim) in self.macros.iter().zip(&spec.macro_dims) {
            if m.is_finite() && dim < z.len() {
                z[dim] += MACRO_REACH * m.clamp(-1.0, 1.0);
            }
        }
        z
    }
}

/// A latent near `center`: `spread` prior standard deviations of seeded noise away. Variations of
/// an encoded clip and the A′ phrases of longer grooves are made this way.
pub fn neighbour(center: &[f32], seed: u64, stream: u64, spread: f32) -> Vec<f32> {
    let noise = crate::latent::normals(seed, 0x4e00_0000 + stream, center.len());
    center.iter().zip(noise).map(|(c, n)| c + spread * n).collect()
}

/// The groove encoder and decoder, loaded and verified.
pub struct GrooveModel {
    spec: GrooveSpec,
    decoder: SharedSession,
    encoder: Option<SharedSession>,
}

impl GrooveModel {
    /// Loads the decoder (always) and the encoder (only for `with_encoder`, used by `--from`).
    pub fn load(runtime: &Runtime, store: &ModelStore, with_encoder: bool) -> Result<Self, GrooveError> {
        let entry = store.get(DECODER_MODEL)?;
        let spec = groove_spec(&entry)?;
        let (decoder, _) = entry.open(runtime)?;
        let encoder = if with_encoder {
            let enc = store.get(ENCODER_MODEL)?;
            if groove_spec(&enc)? != spec {
                return Err(GrooveError::Manifest {
                    path: enc.dir.join(crate::models::MANIFEST_FILE),
                    reason: format!("[groove] differs from {DECODER_MODEL}'s; the two must come from one training run"),
                });
            }
            Some(enc.open(runtime)?.0)
        } else {
            None
        };
        Ok(GrooveModel { spec, decoder, encoder })
    }

    pub fn spec(&self) -> &GrooveSpec {
        &self.spec
    }

    /// Decodes latents (each `spec.latent` long) into patterns.
    pub fn decode(&self, latents: &[Vec<f32>]) -> Result<Vec<Pattern>, GrooveError> {
        let n = latents.len();
        let d = self.spec.latent;
        let mut flat = Vec::with_capacity(n * d);
        for z in latents {
            assert_eq!(z.len(), d, "latent length must match the decoder");
            flat.extend(z.iter().map(|v| if v.is_finite() { *v } else { 0.0 }));
        }
        let err = |e: ort::Error| GrooveError::Inference { model: DECODER_MODEL.into(), reason: e.to_string() };
        let mut session = self.decoder.lock().unwrap_or_else(|p| p.into_inner());
        let input = ort::value::TensorRef::from_array_view(([n, d], &flat[..])).map_err(err)?;
        let out = session.run(ort::inputs![input]).map_err(err)?;
        let mut parts = Vec::with_capacity(3);
        for i in 0..3 {
            let (shape, data) = out[i].try_extract_tensor::<f32>().map_err(err)?;
            if shape[..] != [n as i64, PATTERN_STEPS as i64, LANES as i64] {
                return Err(GrooveError::Inference { model: DECODER_MODEL.into(), reason: format!("output {i} has shape {shape:?}") });
            }
            parts.push(data.to_vec());
        }
        let mut patterns = vec![Pattern::default(); n];
        for (k, p) in patterns.iter_mut().enumerate() {
            for s in 0..PATTERN_STEPS {
                for l in 0..LANES {
                    let i = (k * PATTERN_STEPS + s) * LANES + l;
                    p.cells[s][l] = Cell { prob: parts[0][i], velocity: parts[1][i], offset: parts[2][i] };
                }
            }
        }
        Ok(patterns)
    }

    /// Posterior mean and standard deviation of each pattern's latent.
    pub fn encode(&self, patterns: &[Pattern]) -> Result<Vec<(Vec<f32>, Vec<f32>)>, GrooveError> {
        let session = self.encoder.as_ref().expect("GrooveModel loaded without its encoder");
        let n = patterns.len();
        let mut flat = Vec::with_capacity(n * PATTERN_STEPS * 3 * LANES);
        for p in patterns {
            for step in &p.cells {
                flat.extend(step.iter().map(|c| (c.prob > 0.5) as u8 as f32));
                flat.extend(step.iter().map(|c| c.velocity));
                flat.extend(step.iter().map(|c| c.offset));
            }
        }
        let err = |e: ort::Error| GrooveError::Inference { model: ENCODER_MODEL.into(), reason: e.to_string() };
        let mut session = session.lock().unwrap_or_else(|p| p.into_inner());
        let input = ort::value::TensorRef::from_array_view(([n, PATTERN_STEPS, 3 * LANES], &flat[..])).map_err(err)?;
        let out = session.run(ort::inputs![input]).map_err(err)?;
        let (_, mu) = out[0].try_extract_tensor::<f32>().map_err(err)?;
        let (_, logvar) = out[1].try_extract_tensor::<f32>().map_err(err)?;
        let d = self.spec.latent;
        Ok((0..n)
            .map(|k| {
                let m = mu[k * d..(k + 1) * d].to_vec();
                let s = logvar[k * d..(k + 1) * d].iter().map(|lv| (0.5 * lv).exp()).collect();
                (m, s)
            })
            .collect())
    }
}

fn groove_spec(entry: &ModelEntry) -> Result<GrooveSpec, GrooveError> {
    let path = entry.dir.join(crate::models::MANIFEST_FILE);
    let spec = entry
        .manifest
        .groove
        .clone()
        .ok_or_else(|| GrooveError::Manifest { path: path.clone(), reason: "missing [groove] table".into() })?;
    if spec.steps != PATTERN_STEPS || spec.lanes != LANE_NAMES {
        return Err(GrooveError::Manifest {
            path,
            reason: format!("[groove] describes {} steps of {:?}; this engine plays {PATTERN_STEPS} steps of {LANE_NAMES:?}", spec.steps, spec.lanes),
        });
    }
    if spec.macro_dims.len() != MACROS || spec.macro_dims.iter().any(|&d| d >= spec.latent) {
        return Err(GrooveError::Manifest { path, reason: format!("[groove] macro_dims must name {MACROS} dimensions below latent = {}", spec.latent) });
    }
    Ok(spec)
}

/// Shared handle, so the CLI and the plugin's worker can hold the model the same way.
pub type SharedGrooveModel = Arc<GrooveModel>;

/// Reads a drum clip (any MIDI file; tempo-aligned, notes mapped to the 9 lanes the way the
/// Groove MIDI Dataset maps a Roland kit) into 2-bar patterns. A clip shorter than 2 bars is
/// padded with silence.
pub fn patterns_from_midi(path: &Path) -> Result<Vec<Pattern>, GrooveError> {
    let bytes = std::fs::read(path).map_err(|e| GrooveError::Clip { path: path.into(), reason: e.to_string() })?;
    let clip = |reason: String| GrooveError::Clip { path: path.into(), reason };
    let smf = midly::Smf::parse(&bytes).map_err(|e| clip(format!("{e} (is it a .mid file?)")))?;
    let ppq = match smf.header.timing {
        midly::Timing::Metrical(t) => t.as_int() as f64,
        midly::Timing::Timecode(..) => return Err(clip("SMPTE-timed files are not supported; export the clip with musical (PPQ) timing".into())),
    };
    let mut onsets = Vec::new();
    for track in &smf.tracks {
        let mut tick = 0u64;
        for ev in track {
            tick += ev.delta.as_int() as u64;
            if let midly::TrackEventKind::Midi { message: midly::MidiMessage::NoteOn { key, vel }, .. } = ev.kind {
                if vel.as_int() > 0 {
                    if let Some(lane) = lane_of_note(key.as_int()) {
                        onsets.push((tick as f64 / ppq * 4.0, lane, vel.as_int() as f32 / 127.0));
                    }
                }
            }
        }
    }
    if onsets.is_empty() {
        return Err(clip("no drum notes found (expected General MIDI drum notes 22-87)".into()));
    }
    let last_step = onsets.iter().map(|o| o.0).fold(0.0, f64::max);
    let count = ((last_step + 0.5) / PATTERN_STEPS as f64).floor() as usize + 1;
    let mut grids = vec![[[0.0f32; 3 * LANES]; PATTERN_STEPS]; count];
    for (pos, lane, vel) in onsets {
        let step = (pos + 0.5).floor() as usize;
        let (k, s) = (step / PATTERN_STEPS, step % PATTERN_STEPS);
        if k >= count {
            continue;
        }
        let row = &mut grids[k][s];
        if vel > row[LANES + lane] {
            row[lane] = 1.0;
            row[LANES + lane] = vel;
            row[2 * LANES + lane] = (pos - step as f64) as f32;
        }
    }
    Ok(grids.iter().map(Pattern::from_grid).collect())
}

/// The 9-lane reduction of General MIDI / Roland drum notes (as in Magenta's GrooVAE).
pub fn lane_of_note(note: u8) -> Option<usize> {
    const MAP: [&[u8]; LANES] = [
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
    MAP.iter().position(|notes| notes.contains(&note))
}

/// A standard MIDI file (type 0, 480 PPQ, channel 10) of `patterns` played one after another.
pub fn midi_file(patterns: &[Pattern], feel: &Feel, bpm: f64) -> Vec<u8> {
    use midly::num::{u28, u4, u7};
    use midly::{MetaMessage, MidiMessage, TrackEvent, TrackEventKind};
    const PPQ: u16 = 480;
    let total_beats = (patterns.len() * PATTERN_STEPS) as f64 / 4.0;
    let mut events: Vec<(u64, bool, u8, u8)> = Vec::new(); // (tick, is_on, key, vel)
    let end = (total_beats * PPQ as f64) as u64;
    let steps = (patterns.len() * PATTERN_STEPS) as i64;
    hits_between(0.0, total_beats, feel, |bar| &patterns[(bar.max(0) as usize / PATTERN_BARS).min(patterns.len() - 1)], |h| {
        // Only the clip's own steps: an early hit of the next loop's downbeat would double when
        // the clip is looped. Everything stays inside the clip, so it loops cleanly.
        if !(0..steps).contains(&h.step) {
            return;
        }
        let tick = ((h.beat * PPQ as f64).round().max(0.0) as u64).min(end - 1);
        let vel = (h.velocity * 127.0).round().clamp(1.0, 127.0) as u8;
        events.push((tick, true, GM_NOTES[h.lane], vel));
        events.push(((tick + PPQ as u64 / 8).min(end), false, GM_NOTES[h.lane], 0));
    });
    // Offs before ons at the same tick, so a retrigger is never cut by the previous note's off.
    events.sort_by_key(|e| (e.0, e.1));
    let tempo = (60_000_000.0 / bpm.clamp(20.0, 400.0)).round() as u32;
    let mut track = vec![
        TrackEvent { delta: u28::new(0), kind: TrackEventKind::Meta(MetaMessage::Tempo(midly::num::u24::new(tempo))) },
        TrackEvent { delta: u28::new(0), kind: TrackEventKind::Meta(MetaMessage::TimeSignature(4, 2, 24, 8)) },
    ];
    let mut now = 0u64;
    for (tick, on, key, vel) in events {
        let message = if on {
            MidiMessage::NoteOn { key: u7::new(key), vel: u7::new(vel) }
        } else {
            MidiMessage::NoteOff { key: u7::new(key), vel: u7::new(0) }
        };
        track.push(TrackEvent { delta: u28::new((tick - now) as u32), kind: TrackEventKind::Midi { channel: u4::new(9), message } });
        now = tick;
    }
    track.push(TrackEvent { delta: u28::new(end.saturating_sub(now) as u32), kind: TrackEventKind::Meta(MetaMessage::EndOfTrack) });
    let smf = midly::Smf { header: midly::Header::new(midly::Format::SingleTrack, midly::Timing::Metrical(PPQ.into())), tracks: vec![track] };
    let mut out = Vec::new();
    smf.write_std(&mut out).expect("writing MIDI to memory cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern_with(hits: &[(usize, usize, f32)]) -> Pattern {
        let mut p = Pattern::default();
        for &(step, lane, offset) in hits {
            p.cells[step][lane] = Cell { prob: 0.9, velocity: 0.5, offset };
        }
        p
    }

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
        hits_between(0.0, 12.0, &feel, |bar| if bar < 2 { &a } else { &b }, |h| got.push((h.step, (h.beat * 1000.0).round())));
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

    #[test]
    fn knobs_are_deterministic_and_macros_move_their_dimension() {
        let spec = GrooveSpec { latent: 16, steps: 32, lanes: LANE_NAMES.map(String::from).to_vec(), macro_dims: (0..8).collect() };
        let k = GrooveKnobs { seed: 7, ..Default::default() };
        assert_eq!(k.latent(&spec), k.latent(&spec));
        let mut m = k;
        m.macros[3] = 0.5;
        let (a, b) = (k.latent(&spec), m.latent(&spec));
        for i in 0..16 {
            let want = if i == 3 { MACRO_REACH * 0.5 } else { 0.0 };
            assert!((b[i] - a[i] - want).abs() < 1e-6);
        }
        let v = GrooveKnobs { variation: 1, ..k }.latent(&spec);
        assert_ne!(v, a);
        assert!(GrooveKnobs { temperature: f32::NAN, ..k }.latent(&spec).iter().all(|x| x.is_finite()));
    }

    #[test]
    fn midi_round_trips_through_the_clip_reader() {
        let p = pattern_with(&[(0, 0, 0.0), (4, 1, 0.25), (8, 2, -0.25), (30, 8, 0.0)]);
        let bytes = midi_file(&[p], &Feel::default(), 120.0);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clip.mid");
        std::fs::write(&path, &bytes).unwrap();
        let back = patterns_from_midi(&path).unwrap();
        assert_eq!(back.len(), 1);
        for s in 0..PATTERN_STEPS {
            for l in 0..LANES {
                assert_eq!(back[0].cells[s][l].prob > 0.5, p.cells[s][l].prob > 0.5, "step {s} lane {l}");
                if p.cells[s][l].prob > 0.5 {
                    assert!((back[0].cells[s][l].offset - p.cells[s][l].offset).abs() < 0.01);
                }
            }
        }
        let bad = dir.path().join("bad.mid");
        std::fs::write(&bad, b"RIFF....").unwrap();
        let e = patterns_from_midi(&bad).unwrap_err().to_string();
        assert!(e.contains("bad.mid") && e.contains("not a usable MIDI clip"), "{e}");
    }
}
