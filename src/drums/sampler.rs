//! Playing one-shots: a fixed pool of voices ([`Sampler`]) with a per-lane mixer ([`Mix`]) and
//! one output per lane group beside the full mix, and the block-by-block player that turns a
//! pattern's beats into sample-accurate hits ([`Player`]). Neither allocates, locks or waits
//! after construction: both run on the audio thread.

use super::model::Kit;
use super::{CHOKE_SECONDS, VOICES};
use crate::groove::{self, Feel, Hit, Pattern, GROUPS, GROUP_OF_LANE, LANES};

/// The mixer the sampler plays through: plain data, set every block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mix {
    /// Linear gain per lane (on top of the kit's own balance).
    pub lane_gain: [f32; LANES],
    /// 1 plays each one-shot as generated; below 1 every voice also fades exponentially, with a
    /// time constant from 3 s (just below 1) down to 30 ms (at 0).
    pub decay: f32,
}

impl Default for Mix {
    fn default() -> Self {
        Mix { lane_gain: [1.0; LANES], decay: 1.0 }
    }
}

impl Mix {
    /// The time constant of the extra fade, or `None` at 1 (no extra fade).
    pub fn decay_seconds(&self) -> Option<f32> {
        let d = if self.decay.is_finite() { self.decay.clamp(0.0, 1.0) } else { 1.0 };
        (d < 1.0).then(|| 0.03 * 100f32.powf(d))
    }
}

/// Where a block's sound goes: the full mix, and optionally one buffer per lane group.
pub struct Outputs<'a, 'b> {
    pub mix: &'a mut [f32],
    pub groups: Option<&'a mut [&'b mut [f32]; GROUPS]>,
}

impl<'a> Outputs<'a, '_> {
    /// The full mix only.
    pub fn mix(mix: &'a mut [f32]) -> Self {
        Outputs { mix, groups: None }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Voice {
    active: bool,
    lane: usize,
    /// Next sample to play; negative while waiting for its onset inside the block.
    pos: i64,
    gain: f32,
    /// The extra fade of [`Mix::decay`], 1 at the onset.
    env: f32,
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
    sample_rate: f32,
    mix: Mix,
    /// Per-sample factor of the extra fade (1 when there is none).
    env_step: f32,
}

impl Sampler {
    pub fn new(sample_rate: f32) -> Self {
        Sampler {
            voices: [Voice::default(); VOICES],
            clock: 0,
            choke_len: (CHOKE_SECONDS * sample_rate).max(1.0) as u32,
            sample_rate,
            mix: Mix::default(),
            env_step: 1.0,
        }
    }

    /// Sets the mixer; acts from the next rendered sample (lane levels on ringing voices too).
    pub fn set_mix(&mut self, mix: Mix) {
        if mix != self.mix {
            self.env_step = match mix.decay_seconds() {
                Some(tau) => (-1.0 / (tau * self.sample_rate.max(1.0))).exp(),
                None => 1.0,
            };
            self.mix = mix;
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
        self.voices[slot] = Voice {
            active: true,
            lane,
            pos: -(delay as i64),
            gain: v * v.sqrt(),
            env: 1.0,
            fade: None,
            age: self.clock,
        };
    }

    /// Adds the block's sound to the outputs (mono): every voice to the mix, and to its lane
    /// group's buffer when there are group buffers. A voice whose sample ends, or whose fade
    /// ends, frees.
    pub fn render(&mut self, kit: Option<&Kit>, out: Outputs) {
        let Some(kit) = kit else {
            // No kit (model missing or not generated yet): voices advance silently.
            for v in self.voices.iter_mut().filter(|v| v.active) {
                v.active = false;
            }
            return;
        };
        let Outputs { mix, mut groups } = out;
        for v in self.voices.iter_mut().filter(|v| v.active) {
            let sample = &kit.lanes[v.lane];
            let lane_gain = self.mix.lane_gain[v.lane];
            let mut group = groups.as_deref_mut().map(|g| &mut *g[GROUP_OF_LANE[v.lane]]);
            for (i, o) in mix.iter_mut().enumerate() {
                if v.pos >= 0 {
                    let Some(s) = sample.get(v.pos as usize) else {
                        v.active = false;
                        break;
                    };
                    let mut g = v.gain * v.env * lane_gain;
                    v.env *= self.env_step;
                    if let Some(f) = v.fade.as_mut() {
                        if *f == 0 {
                            v.active = false;
                            break;
                        }
                        g *= *f as f32 / self.choke_len as f32;
                        *f -= 1;
                    }
                    let x = s * g;
                    *o += x;
                    if let Some(out) = group.as_deref_mut().and_then(|b| b.get_mut(i)) {
                        *out += x;
                    }
                }
                v.pos += 1;
            }
            // A voice faded below hearing frees its slot.
            if v.env < 1e-5 {
                v.active = false;
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
        out: Outputs,
        mut on_hit: impl FnMut(&Hit, usize),
    ) {
        let BlockStart { beat: start_beat, bpm } = start;
        let beats_per_sample = bpm / 60.0 / self.sample_rate;
        let n = out.mix.len();
        let end_beat = start_beat + beats_per_sample * n as f64;
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
            Outputs::mix(&mut out),
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
        s.render(Some(&kit), Outputs::mix(&mut out));
        s.trigger(2, 1.0, 0);
        let mut out = vec![0.0; 1024];
        s.render(Some(&kit), Outputs::mix(&mut out));
        assert_eq!(s.active_voices(), 1, "only the closed hat rings");
    }

    fn steady_kit() -> Kit {
        Kit { sample_rate: 48_000, lanes: std::array::from_fn(|_| vec![1.0; 48_000]) }
    }

    #[test]
    fn each_group_output_gets_its_lanes_and_the_mix_gets_all() {
        let kit = steady_kit();
        let mut s = Sampler::new(48_000.0);
        let mut mix = Mix::default();
        mix.lane_gain[4] = 0.5;
        s.set_mix(mix);
        // Kick, a low tom at half level, a ride.
        for lane in [0, 4, 8] {
            s.trigger(lane, 1.0, 0);
        }
        let mut out = vec![0.0f32; 64];
        let mut bufs = [[0.0f32; 64]; GROUPS];
        let [a, b, c, d, e] = &mut bufs;
        let mut groups: [&mut [f32]; GROUPS] = [a, b, c, d, e];
        s.render(Some(&kit), Outputs { mix: &mut out, groups: Some(&mut groups) });
        assert_eq!(bufs.map(|b| b[10]), [1.0, 0.0, 0.0, 0.5, 1.0]);
        assert_eq!(out[10], 2.5, "the mix is the sum of the groups");
    }

    #[test]
    fn decay_knob_shortens_every_voice() {
        let kit = steady_kit();
        let rms_after = |decay: f32| {
            let mut s = Sampler::new(48_000.0);
            s.set_mix(Mix { decay, ..Mix::default() });
            s.trigger(7, 1.0, 0);
            let mut out = vec![0.0f32; 9_600];
            s.render(Some(&kit), Outputs::mix(&mut out));
            out[9_000..].iter().map(|v| v * v).sum::<f32>().sqrt()
        };
        let natural = rms_after(1.0);
        assert!(rms_after(0.9) < natural);
        // A 30 ms time constant: e^(-6.25), -54 dB, after 187.5 ms.
        assert!(rms_after(0.0) < 1e-2 * natural, "30 ms time constant: 40 dB down after 190 ms");
        assert_eq!(Mix::default().decay_seconds(), None);
        assert!((Mix { decay: 0.0, ..Mix::default() }.decay_seconds().unwrap() - 0.03).abs() < 1e-6);
    }
}
