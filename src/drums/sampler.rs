//! Playing one-shots: a fixed pool of voices ([`Sampler`]) and the block-by-block player that
//! turns a pattern's beats into sample-accurate hits ([`Player`]). Neither allocates, locks or
//! waits after construction: both run on the audio thread.

use super::model::Kit;
use super::{CHOKE_SECONDS, VOICES};
use crate::groove::{self, Feel, Hit, Pattern, LANES};

#[derive(Debug, Clone, Copy, Default)]
struct Voice {
    active: bool,
    lane: usize,
    /// Next sample to play; negative while waiting for its onset inside the block.
    pos: i64,
    gain: f32,
    /// Remaining fade-out samples after a choke, if choked.
    fade: Option<u32>,
    age: u64,
}

/// A fixed pool of voices playing one-shots from a [`Kit`]. No allocation after construction.
#[derive(Debug, Clone)]
pub struct Sampler {
    voices: [Voice; VOICES],
    clock: u64,
    choke_len: u32,
}

impl Sampler {
    pub fn new(sample_rate: f32) -> Self {
        Sampler {
            voices: [Voice::default(); VOICES],
            clock: 0,
            choke_len: (CHOKE_SECONDS * sample_rate).max(1.0) as u32,
        }
    }

    pub fn reset(&mut self) {
        self.voices = [Voice::default(); VOICES];
    }

    /// Starts `lane` `delay` samples into the next rendered block.
    pub fn trigger(&mut self, lane: usize, velocity: f32, delay: usize) {
        if lane >= LANES {
            return;
        }
        // A closed hat chokes a ringing open hat, as on a real hi-hat.
        if lane == 2 {
            for v in self.voices.iter_mut().filter(|v| v.active && v.lane == 3 && v.fade.is_none()) {
                v.fade = Some(self.choke_len);
            }
        }
        self.clock += 1;
        let slot = match self.voices.iter().position(|v| !v.active) {
            Some(i) => i,
            None => (0..VOICES).min_by_key(|&i| self.voices[i].age).unwrap_or(0),
        };
        let v = velocity.clamp(0.0, 1.0);
        self.voices[slot] =
            Voice { active: true, lane, pos: -(delay as i64), gain: v * v.sqrt(), fade: None, age: self.clock };
    }

    /// Adds the block's sound to `out` (mono). A voice whose sample ends, or whose fade ends, frees.
    pub fn render(&mut self, kit: Option<&Kit>, out: &mut [f32]) {
        let Some(kit) = kit else {
            // No kit (model missing or not generated yet): voices advance silently.
            for v in self.voices.iter_mut().filter(|v| v.active) {
                v.active = false;
            }
            return;
        };
        for v in self.voices.iter_mut().filter(|v| v.active) {
            let sample = &kit.lanes[v.lane];
            for o in out.iter_mut() {
                if v.pos >= 0 {
                    let Some(s) = sample.get(v.pos as usize) else {
                        v.active = false;
                        break;
                    };
                    let mut g = v.gain;
                    if let Some(f) = v.fade.as_mut() {
                        if *f == 0 {
                            v.active = false;
                            break;
                        }
                        g *= *f as f32 / self.choke_len as f32;
                        *f -= 1;
                    }
                    *o += s * g;
                }
                v.pos += 1;
            }
        }
    }

    pub fn active_voices(&self) -> usize {
        self.voices.iter().filter(|v| v.active).count()
    }
}

/// Plays patterns through a [`Sampler`] block by block: the part of the plugin's `process()` and
/// the CLI's offline render that turns beats into sample-accurate drum hits.
#[derive(Debug, Clone)]
pub struct Player {
    pub sampler: Sampler,
    sample_rate: f64,
}

/// Where a block starts on the beat timeline, and the tempo it plays at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockStart {
    pub beat: f64,
    pub bpm: f64,
}

impl Player {
    pub fn new(sample_rate: f32) -> Self {
        Player { sampler: Sampler::new(sample_rate), sample_rate: sample_rate as f64 }
    }

    /// Renders `out.len()` samples from `start`, adding to `out`. Every hit is passed to `on_hit`
    /// with its sample offset in the block, before it is rendered.
    pub fn render_block<'a>(
        &mut self,
        start: BlockStart,
        feel: &Feel,
        pattern_for_bar: impl Fn(i64) -> &'a Pattern,
        kit: Option<&Kit>,
        out: &mut [f32],
        mut on_hit: impl FnMut(&Hit, usize),
    ) {
        let BlockStart { beat: start_beat, bpm } = start;
        let beats_per_sample = bpm / 60.0 / self.sample_rate;
        let end_beat = start_beat + beats_per_sample * out.len() as f64;
        let n = out.len();
        let sampler = &mut self.sampler;
        groove::hits_between(start_beat, end_beat, feel, pattern_for_bar, |hit| {
            let offset =
                (((hit.beat - start_beat) / beats_per_sample).round().max(0.0) as usize).min(n.saturating_sub(1));
            on_hit(&hit, offset);
            sampler.trigger(hit.lane, hit.velocity, offset);
        });
        self.sampler.render(kit, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groove::Cell;

    #[test]
    fn hits_sound_at_their_sample() {
        let mut p = Pattern::default();
        p.cells[4][0] = Cell { prob: 1.0, velocity: 1.0, offset: 0.0 };
        let feel = Feel { humanize_timing: 0.0, ..Feel::default() };
        let kit = Kit::clicks(48_000);
        let mut player = Player::new(48_000.0);
        // 120 BPM: a beat is 24000 samples; step 4 is beat 1.
        let mut out = vec![0.0f32; 64];
        let mut seen = Vec::new();
        player.render_block(
            BlockStart { beat: 1.0 - 10.0 / 24_000.0, bpm: 120.0 },
            &feel,
            |_| &p,
            Some(&kit),
            &mut out,
            |h, off| seen.push((h.lane, off)),
        );
        assert_eq!(seen, vec![(0, 10)]);
        let first = out.iter().position(|s| *s != 0.0).unwrap();
        assert_eq!(first, 10);
    }

    #[test]
    fn closed_hat_chokes_open_hat() {
        let kit = Kit { sample_rate: 48_000, lanes: std::array::from_fn(|_| vec![1.0; 48_000]) };
        let mut s = Sampler::new(48_000.0);
        s.trigger(3, 1.0, 0);
        let mut out = vec![0.0; 256];
        s.render(Some(&kit), &mut out);
        s.trigger(2, 1.0, 0);
        let mut out = vec![0.0; 1024];
        s.render(Some(&kit), &mut out);
        assert_eq!(s.active_voices(), 1, "only the closed hat rings");
    }
}
