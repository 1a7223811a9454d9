//! Offline rendering: patterns played back to back with a kit, as one mono buffer, and 24-bit
//! WAV files written atomically.

use std::io;
use std::path::Path;

use super::model::Kit;
use super::sampler::{BlockStart, Mix, Outputs, Player};
use super::DrumError;
use crate::groove::{self, Feel, Pattern};
use crate::io::atomic::write_atomic;

/// Renders patterns played back to back at `bpm` with `kit` through `mix` (plus the last hit's
/// ring-out), as mono samples at the kit's rate.
pub fn render_patterns(patterns: &[Pattern], feel: &Feel, bpm: f64, kit: &Kit, mix: &Mix) -> Vec<f32> {
    let rate = kit.sample_rate as f64;
    let beats = (patterns.len() * groove::PATTERN_STEPS) as f64 / 4.0;
    let music = (beats * 60.0 / bpm * rate).round() as usize;
    let tail = kit.lanes.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = vec![0.0f32; music + tail];
    let mut player = Player::new(kit.sample_rate as f32);
    player.sampler.set_mix(*mix);
    let block = 512;
    let beats_per_sample = bpm / 60.0 / rate;
    let pattern_for_bar = |bar: i64| &patterns[((bar.max(0) as usize) / groove::PATTERN_BARS).min(patterns.len() - 1)];
    let mut start = 0;
    while start < out.len() {
        if start < music {
            // Blocks stop at the end of the music, so no hit of a following loop sneaks in.
            let end = (start + block).min(music);
            player.render_block(
                BlockStart { beat: start as f64 * beats_per_sample, bpm },
                feel,
                pattern_for_bar,
                Some(kit),
                Outputs::mix(&mut out[start..end]),
                |_, _| {},
            );
            start = end;
        } else {
            let end = (start + block).min(out.len());
            player.sampler.render(Some(kit), Outputs::mix(&mut out[start..end]));
            start = end;
        }
    }
    out
}

/// Writes mono float samples as a 24-bit WAV, atomically.
pub fn write_wav(path: &Path, samples: &[f32], sample_rate: u32) -> Result<(), DrumError> {
    let spec =
        hound::WavSpec { channels: 1, sample_rate, bits_per_sample: 24, sample_format: hound::SampleFormat::Int };
    write_atomic(path, |tmp| {
        let mut w = hound::WavWriter::create(tmp, spec).map_err(io::Error::other)?;
        for s in samples {
            let v = if s.is_finite() { s.clamp(-1.0, 1.0) } else { 0.0 };
            w.write_sample((v * 8_388_607.0).round() as i32).map_err(io::Error::other)?;
        }
        w.finalize().map_err(io::Error::other)
    })
    .map_err(|source| DrumError::Write { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groove::{Cell, LANES};

    #[test]
    fn render_is_finite_and_bounded_in_length() {
        let mut p = Pattern::default();
        for s in 0..32 {
            p.cells[s][s % LANES] = Cell { prob: 0.9, velocity: 0.7, offset: 0.1 };
        }
        let kit = Kit::clicks(48_000);
        let audio = render_patterns(&[p, p], &Feel::default(), 120.0, &kit, &Mix::default());
        assert_eq!(audio.len(), 8 * 48_000 + 100);
        assert!(audio.iter().all(|s| s.is_finite()));
        assert_eq!(audio.iter().filter(|s| **s != 0.0).count(), 64);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        write_wav(&path, &audio, 48_000).unwrap();
        let r = hound::WavReader::open(&path).unwrap();
        assert_eq!(r.len() as usize, audio.len());
    }
}
