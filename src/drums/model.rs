//! The drum one-shot model: the `[drums]` table of its manifest, kits generated from knobs, and
//! kits resampled to the host's rate.

use rubato::audioadapter_buffers::direct::SequentialSlice;
use rubato::{Fft, FixedSync, Resampler};

use super::{DrumError, DRUM_MODEL, KIT_MEDIAN_LANE_DBFS, KIT_PEAK};
use crate::groove::{LANES, LANE_NAMES};
use crate::infer::{self, latent, Input, ModelStore, Runtime, SharedSession};

/// The `[drums]` table of the drum model's `model.toml`.
#[derive(Debug, Clone, serde::Deserialize, PartialEq)]
pub struct DrumSpec {
    pub latent: usize,
    pub sample_rate: u32,
    /// Samples per generated one-shot.
    pub length: usize,
    /// Drum lanes, in the order of the one-hot `lane` input.
    pub lanes: Vec<String>,
    /// Each lane's loudness in the real kits, dB relative to a kit's median lane: the RMS of
    /// the first `loudness_window_s` after the onset (models/train/drums/loudness.py).
    pub loudness_db: Vec<f32>,
    pub loudness_window_s: f32,
}

/// The knobs that pick a kit: the seed chooses two points per lane, timbre walks between them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KitKnobs {
    pub seed: u64,
    /// 0..1 along the arc between the seed's two kits.
    pub timbre: f32,
}

impl Default for KitKnobs {
    fn default() -> Self {
        KitKnobs { seed: 1, timbre: 0.0 }
    }
}

impl KitKnobs {
    pub fn latent(&self, lane: usize, dims: usize) -> Vec<f32> {
        let a = latent::normals(self.seed, 1000 + lane as u64, dims);
        let b = latent::normals(self.seed, 2000 + lane as u64, dims);
        latent::arc(&a, &b, if self.timbre.is_finite() { self.timbre.clamp(0.0, 1.0) } else { 0.0 })
    }
}

/// One one-shot per lane, at `sample_rate`.
#[derive(Debug, Clone, PartialEq)]
pub struct Kit {
    pub sample_rate: u32,
    pub lanes: [Vec<f32>; LANES],
}

impl Kit {
    /// The kit resampled to `rate` (band-limited, with rubato), for hosts not running at the
    /// model's rate. Runs on a worker thread: it allocates.
    pub fn resampled(&self, rate: u32) -> Result<Kit, DrumError> {
        if rate == self.sample_rate || rate == 0 {
            return Ok(self.clone());
        }
        let fail = |e: Box<dyn std::error::Error + Send + Sync>| DrumError::Resample {
            from: self.sample_rate,
            to: rate,
            source: e,
        };
        let frames = self.lanes.iter().map(Vec::len).max().unwrap_or(0);
        // All lanes as the channels of one signal, padded to the longest.
        let mut input = vec![0.0f32; LANES * frames];
        for (lane, samples) in self.lanes.iter().enumerate() {
            input[lane * frames..][..samples.len()].copy_from_slice(samples);
        }
        let mut resampler = Fft::<f32>::new(self.sample_rate as usize, rate as usize, 1024, LANES, FixedSync::Input)
            .map_err(|e| fail(e.into()))?;
        let out_frames = resampler.process_all_needed_output_len(frames);
        let mut output = vec![0.0f32; LANES * out_frames];
        let source = SequentialSlice::new(&input, LANES, frames).map_err(|e| fail(e.into()))?;
        let mut sink = SequentialSlice::new_mut(&mut output, LANES, out_frames).map_err(|e| fail(e.into()))?;
        let (_, written) =
            resampler.process_all_into_buffer(&source, &mut sink, frames, None).map_err(|e| fail(e.into()))?;
        let lanes = std::array::from_fn(|lane| {
            let n = ((self.lanes[lane].len() as f64) * rate as f64 / self.sample_rate as f64).round() as usize;
            output[lane * out_frames..][..n.min(written)].to_vec()
        });
        Ok(Kit { sample_rate: rate, lanes })
    }
}

#[cfg(test)]
impl Kit {
    /// A test kit: every lane a 100-sample one-shot whose only sound is a click at sample 0.
    pub(crate) fn clicks(rate: u32) -> Kit {
        Kit {
            sample_rate: rate,
            lanes: std::array::from_fn(|l| {
                (0..100).map(|i| if i == 0 { 0.5 + l as f32 * 0.01 } else { 0.0 }).collect()
            }),
        }
    }
}

pub struct DrumModel {
    spec: DrumSpec,
    session: SharedSession,
}

impl DrumModel {
    pub fn load(runtime: &Runtime, store: &ModelStore) -> Result<Self, DrumError> {
        let entry = store.get(DRUM_MODEL)?;
        let spec: DrumSpec = entry.task_table("drums")?;
        let loudness_ok = spec.loudness_db.len() == LANES
            && spec.loudness_db.iter().all(|db| db.is_finite() && db.abs() < 60.0)
            && spec.loudness_window_s > 0.0;
        if spec.lanes != LANE_NAMES || spec.sample_rate == 0 || spec.length == 0 || !loudness_ok {
            return Err(entry
                .invalid(format!(
                    "[drums] must list the lanes {LANE_NAMES:?} with a sample rate, a length, \
                     a loudness_db per lane and a loudness_window_s"
                ))
                .into());
        }
        let (session, _) = entry.open(runtime)?;
        Ok(DrumModel { spec, session })
    }

    pub fn spec(&self) -> &DrumSpec {
        &self.spec
    }

    /// Generates one one-shot per lane from `latents[lane]`.
    pub fn generate(&self, latents: &[Vec<f32>; LANES]) -> Result<Kit, DrumError> {
        let d = self.spec.latent;
        let mut z = Vec::with_capacity(LANES * d);
        let mut onehot = vec![0.0f32; LANES * LANES];
        for (lane, lz) in latents.iter().enumerate() {
            assert_eq!(lz.len(), d, "latent length must match the drum model");
            z.extend(lz.iter().map(|v| if v.is_finite() { *v } else { 0.0 }));
            onehot[lane * LANES + lane] = 1.0;
        }
        let inputs = [Input::new([LANES, d], &z), Input::new([LANES, LANES], &onehot)];
        let out = infer::run(&self.session, DRUM_MODEL, &inputs)?;
        let n = self.spec.length;
        let audio = out.f32(0, &[LANES as i64, n as i64])?;
        let mut lanes: [Vec<f32>; LANES] = std::array::from_fn(|l| {
            // Not clamped: the model may overshoot 1.0, and `balance` scales every lane anyway.
            audio[l * n..(l + 1) * n].iter().map(|v| if v.is_finite() { *v } else { 0.0 }).collect()
        });
        self.balance(&mut lanes);
        Ok(Kit { sample_rate: self.spec.sample_rate, lanes })
    }

    /// Generated one-shots come out at uneven levels: each is brought to its lane's loudness in
    /// the real kits (the median lane at [`KIT_MEDIAN_LANE_DBFS`]), then the whole kit is turned
    /// down if a peak would pass [`KIT_PEAK`]. Velocity, the lane levels and the output gain do
    /// the rest.
    fn balance(&self, lanes: &mut [Vec<f32>; LANES]) {
        let window = (self.spec.loudness_window_s * self.spec.sample_rate as f32).max(1.0) as usize;
        for (samples, target_db) in lanes.iter_mut().zip(&self.spec.loudness_db) {
            if let Some(db) = onset_rms_db(samples, window) {
                let g = 10f32.powf((KIT_MEDIAN_LANE_DBFS + target_db - db) / 20.0);
                samples.iter_mut().for_each(|v| *v *= g);
            }
        }
        let peak = lanes.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs()));
        if peak > KIT_PEAK {
            let g = KIT_PEAK / peak;
            lanes.iter_mut().flatten().for_each(|v| *v *= g);
        }
    }

    pub fn kit(&self, knobs: &KitKnobs) -> Result<Kit, DrumError> {
        let latents = std::array::from_fn(|lane| knobs.latent(lane, self.spec.latent));
        self.generate(&latents)
    }
}

/// dB RMS of `window` samples from the onset (the first sample within 40 dB of the peak), as
/// loudness.py measures the real kits; `None` for silence.
fn onset_rms_db(samples: &[f32], window: usize) -> Option<f32> {
    let peak = samples.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if peak < 1e-4 {
        return None;
    }
    let start = samples.iter().position(|v| v.abs() > 0.01 * peak)?;
    let w = &samples[start..(start + window).min(samples.len())];
    let mean_square = w.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / w.len() as f64;
    Some(10.0 * mean_square.max(1e-20).log10() as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn onset_loudness_starts_at_the_onset() {
        let mut x = vec![0.0f32; 1000];
        x[100..200].fill(0.5);
        // 100 samples at 0.5 in a 200-sample window from the onset: mean square 0.125.
        let db = onset_rms_db(&x, 200).unwrap();
        assert!((db - 10.0 * 0.125f32.log10()).abs() < 1e-4, "{db}");
        assert_eq!(onset_rms_db(&[0.0; 10], 5), None);
    }

    #[test]
    fn resampling_keeps_duration() {
        let kit = Kit { sample_rate: 48_000, lanes: std::array::from_fn(|_| vec![0.25; 48_000]) };
        let k = kit.resampled(44_100).unwrap();
        assert_eq!(k.sample_rate, 44_100);
        assert_eq!(k.lanes[0].len(), 44_100);
        // A steady level stays that level; band-limiting only rings at the edges of the buffer.
        assert!(k.lanes[0][500..43_600].iter().all(|v| (*v - 0.25).abs() < 1e-3), "level kept");
        assert_eq!(kit.resampled(48_000).unwrap(), kit);
    }
}
