//! Drum MIDI in and out: clips read into 2-bar patterns (notes mapped to the 9 lanes as the
//! Groove MIDI Dataset maps a Roland kit) and patterns written as type-0 General MIDI files.

use std::path::Path;

use super::pattern::{hits_between, Feel, Pattern};
use super::{GrooveError, BPM_RANGE, GM_NOTES, LANES, NOTE_LANES, PATTERN_BARS, PATTERN_STEPS};
use crate::io::limits::{contain_panics, read_bounded, Malformed, MAX_MIDI_BYTES};

/// Most 2-bar patterns a clip may hold (a 1024-bar song; a damaged file's delta times can claim
/// millions).
pub const MAX_CLIP_PATTERNS: usize = 512;

/// Reads a drum clip (any MIDI file; tempo-aligned, notes mapped to the 9 lanes the way the
/// Groove MIDI Dataset maps a Roland kit) into 2-bar patterns. A clip shorter than 2 bars is
/// padded with silence.
pub fn patterns_from_midi(path: &Path) -> Result<Vec<Pattern>, GrooveError> {
    let bytes = read_bounded(path, MAX_MIDI_BYTES, "a MIDI clip")
        .map_err(|source| GrooveError::Clip { path: path.into(), source })?;
    let clip = |why: String| GrooveError::Clip { path: path.into(), source: Malformed::Header(why).into() };
    let smpte = || clip("SMPTE-timed files are not supported; export the clip with musical (PPQ) timing".into());
    // The division's top bit marks SMPTE timing; checked before midly, which negates its frame
    // rate byte (-128 overflows).
    if bytes.starts_with(b"MThd") && bytes.get(12).is_some_and(|b| b & 0x80 != 0) {
        return Err(smpte());
    }
    let smf = contain_panics(|| midly::Smf::parse(&bytes))
        .map_err(|source| GrooveError::Clip { path: path.into(), source })?
        .map_err(|e| GrooveError::Clip { path: path.into(), source: Malformed::Midi(e).into() })?;
    let ppq = match smf.header.timing {
        midly::Timing::Metrical(t) if t.as_int() > 0 => t.as_int() as f64,
        midly::Timing::Metrical(_) => return Err(clip("its header gives 0 ticks per quarter note".into())),
        midly::Timing::Timecode(..) => return Err(smpte()),
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
    let count = ((last_step + 0.5) / PATTERN_STEPS as f64).floor() + 1.0;
    if count > MAX_CLIP_PATTERNS as f64 {
        let bars = count * PATTERN_BARS as f64;
        return Err(clip(format!(
            "its last drum note is {bars:.0} bars in, over the {} bar limit; trim the clip to the part to vary",
            MAX_CLIP_PATTERNS * PATTERN_BARS
        )));
    }
    Ok(patterns_from_onsets(&onsets, count as usize))
}

/// `count` 2-bar patterns from drum onsets `(position in 16th steps from the clip's start, lane,
/// velocity 0..1)`: each hit on its nearest step, its offset from it as micro-timing; of two hits
/// on one cell the louder stays. Onsets past the patterns are dropped.
pub fn patterns_from_onsets(onsets: &[(f64, usize, f32)], count: usize) -> Vec<Pattern> {
    let mut grids = vec![[[0.0f32; 3 * LANES]; PATTERN_STEPS]; count];
    for &(pos, lane, vel) in onsets {
        let step = (pos + 0.5).floor();
        if step < 0.0 || lane >= LANES {
            continue;
        }
        let step = step as usize;
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
    grids.iter().map(Pattern::from_grid).collect()
}

/// The lane a General MIDI / Roland drum note plays (the 9-lane reduction of Magenta's GrooVAE).
pub fn lane_of_note(note: u8) -> Option<usize> {
    NOTE_LANES.iter().position(|notes| notes.contains(&note))
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
    hits_between(
        0.0,
        total_beats,
        feel,
        |bar| &patterns[(bar.max(0) as usize / PATTERN_BARS).min(patterns.len() - 1)],
        |h| {
            // Only the clip's own steps: an early hit of the next loop's downbeat would double when
            // the clip is looped. Everything stays inside the clip, so it loops cleanly.
            if !(0..steps).contains(&h.step) {
                return;
            }
            let tick = ((h.beat * PPQ as f64).round().max(0.0) as u64).min(end - 1);
            let vel = (h.velocity * 127.0).round().clamp(1.0, 127.0) as u8;
            events.push((tick, true, GM_NOTES[h.lane], vel));
            events.push(((tick + PPQ as u64 / 8).min(end), false, GM_NOTES[h.lane], 0));
        },
    );
    // Offs before ons at the same tick, so a retrigger is never cut by the previous note's off.
    events.sort_by_key(|e| (e.0, e.1));
    let tempo = (60_000_000.0 / bpm.clamp(*BPM_RANGE.start(), *BPM_RANGE.end())).round() as u32;
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
        track.push(TrackEvent {
            delta: u28::new((tick - now) as u32),
            kind: TrackEventKind::Midi { channel: u4::new(9), message },
        });
        now = tick;
    }
    track.push(TrackEvent {
        delta: u28::new(end.saturating_sub(now) as u32),
        kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
    });
    let smf = midly::Smf {
        header: midly::Header::new(midly::Format::SingleTrack, midly::Timing::Metrical(PPQ.into())),
        tracks: vec![track],
    };
    let mut out = Vec::new();
    smf.write_std(&mut out).expect("writing MIDI to memory cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::super::pattern::pattern_with;
    use super::*;

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
