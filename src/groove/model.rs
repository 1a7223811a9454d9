//! The groove VAEs: the `[groove]` table of their manifests, decoding latents into patterns and
//! encoding patterns (from MIDI clips) into latents. Two VAEs share this code: the groove VAE,
//! whose smooth latent makes every seed a groove, and the clip VAE, whose detailed latent gives
//! an encoded clip back (each model card has the figures).

use std::sync::Arc;

use super::pattern::{Cell, Pattern};
use super::take::{Spread, Take};
use super::{
    GrooveError, CLIP_DECODER_MODEL, CLIP_ENCODER_MODEL, DECODER_MODEL, LANES, LANE_NAMES, MACROS, PATTERN_STEPS,
};
use crate::infer::{self, Input, ModelEntry, ModelError, ModelStore, Runtime, SharedSession};

/// A latent posterior: mean and standard deviation per dimension.
pub type Posterior = (Vec<f32>, Vec<f32>);

/// The `[groove]` table of the groove decoder's and encoder's `model.toml`.
#[derive(Debug, Clone, serde::Deserialize, PartialEq)]
pub struct GrooveSpec {
    /// Latent dimensions.
    pub latent: usize,
    /// 16th steps per pattern.
    pub steps: usize,
    /// Drum lanes, in the order of the last tensor axis.
    pub lanes: Vec<String>,
    /// Latent dimensions the 8 macro knobs move, most used first (measured at export).
    pub macro_dims: Vec<usize>,
    /// How far a seeded [`Take`] varies each lane's hits.
    #[serde(flatten)]
    pub spread: Spread,
}

/// What a [`GrooveModel`] is loaded for, and so which VAE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrooveUse {
    /// Grooves from seeds and knobs: the groove VAE's decoder.
    Seeds,
    /// Encoding clips and decoding them and their variations: the clip VAE, encoder and decoder.
    Clips,
}

/// A groove VAE's decoder and, for clips, its encoder, loaded and verified.
pub struct GrooveModel {
    spec: GrooveSpec,
    decoder: SharedSession,
    decoder_name: &'static str,
    encoder: Option<SharedSession>,
}

impl GrooveModel {
    /// Loads the VAE for `use_`: its decoder, and for clips its encoder too.
    pub fn load(runtime: &Runtime, store: &ModelStore, use_: GrooveUse) -> Result<Self, GrooveError> {
        let decoder_name = match use_ {
            GrooveUse::Seeds => DECODER_MODEL,
            GrooveUse::Clips => CLIP_DECODER_MODEL,
        };
        let entry = store.get(decoder_name)?;
        let spec = groove_spec(&entry)?;
        let (decoder, _) = entry.open(runtime)?;
        let encoder = match use_ {
            GrooveUse::Seeds => None,
            GrooveUse::Clips => {
                let enc = store.get(CLIP_ENCODER_MODEL)?;
                if groove_spec(&enc)? != spec {
                    return Err(enc
                        .invalid(format!(
                            "[groove] differs from {decoder_name}'s; the two must come from one training run"
                        ))
                        .into());
                }
                Some(enc.open(runtime)?.0)
            }
        };
        Ok(GrooveModel { spec, decoder, decoder_name, encoder })
    }

    pub fn spec(&self) -> &GrooveSpec {
        &self.spec
    }

    /// Decodes latents (each `spec.latent` long: the phrases of one groove, in order) into
    /// patterns played by `take`.
    pub fn decode(&self, latents: &[Vec<f32>], take: Take) -> Result<Vec<Pattern>, GrooveError> {
        let n = latents.len();
        let d = self.spec.latent;
        let mut flat = Vec::with_capacity(n * d);
        for z in latents {
            assert_eq!(z.len(), d, "latent length must match the decoder");
            flat.extend(z.iter().map(|v| if v.is_finite() { *v } else { 0.0 }));
        }
        let out = infer::run(&self.decoder, self.decoder_name, &[Input::new([n, d], &flat)])?;
        let shape = [n as i64, PATTERN_STEPS as i64, LANES as i64];
        let parts = [out.f32(0, &shape)?, out.f32(1, &shape)?, out.f32(2, &shape)?];
        let mut patterns = vec![Pattern::default(); n];
        for (k, p) in patterns.iter_mut().enumerate() {
            for s in 0..PATTERN_STEPS {
                for l in 0..LANES {
                    let i = (k * PATTERN_STEPS + s) * LANES + l;
                    p.cells[s][l] = Cell { prob: parts[0][i], velocity: parts[1][i], offset: parts[2][i] };
                }
            }
        }
        take.apply(&self.spec.spread, &mut patterns);
        Ok(patterns)
    }

    /// Posterior mean and standard deviation of each pattern's latent.
    pub fn encode(&self, patterns: &[Pattern]) -> Result<Vec<Posterior>, GrooveError> {
        let session = self.encoder.as_ref().expect("GrooveModel loaded for seeds has no encoder: load it for clips");
        let n = patterns.len();
        let mut flat = Vec::with_capacity(n * PATTERN_STEPS * 3 * LANES);
        for p in patterns {
            for step in &p.cells {
                flat.extend(step.iter().map(|c| (c.prob > 0.5) as u8 as f32));
                flat.extend(step.iter().map(|c| c.velocity));
                flat.extend(step.iter().map(|c| c.offset));
            }
        }
        let out = infer::run(session, CLIP_ENCODER_MODEL, &[Input::new([n, PATTERN_STEPS, 3 * LANES], &flat)])?;
        let d = self.spec.latent;
        let (mu, logvar) = (out.f32(0, &[n as i64, d as i64])?, out.f32(1, &[n as i64, d as i64])?);
        Ok((0..n)
            .map(|k| {
                let m = mu[k * d..(k + 1) * d].to_vec();
                let s = logvar[k * d..(k + 1) * d].iter().map(|lv| (0.5 * lv).exp()).collect();
                (m, s)
            })
            .collect())
    }
}

fn groove_spec(entry: &ModelEntry) -> Result<GrooveSpec, ModelError> {
    let spec: GrooveSpec = entry.task_table("groove")?;
    if spec.steps != PATTERN_STEPS || spec.lanes != LANE_NAMES {
        return Err(entry.invalid(format!(
            "[groove] describes {} steps of {:?}; this engine plays {PATTERN_STEPS} steps of {LANE_NAMES:?}",
            spec.steps, spec.lanes
        )));
    }
    if spec.macro_dims.len() != MACROS || spec.macro_dims.iter().any(|&d| d >= spec.latent) {
        return Err(
            entry.invalid(format!("[groove] macro_dims must name {MACROS} dimensions below latent = {}", spec.latent))
        );
    }
    let s = &spec.spread;
    for (key, spread) in [("velocity_spread", &s.velocity_spread), ("offset_spread", &s.offset_spread)] {
        if spread.len() != LANES || !spread.iter().all(|s| s.is_finite() && (0.0..=1.0).contains(s)) {
            return Err(entry.invalid(format!("[groove] {key} must give {LANES} spreads in 0..1, one per lane")));
        }
    }
    Ok(spec)
}

/// Shared handle, so the CLI and the plugin's worker can hold the model the same way.
pub type SharedGrooveModel = Arc<GrooveModel>;
