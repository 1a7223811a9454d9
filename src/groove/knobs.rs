//! Where in the groove latent space the knobs point: the seed's groove, its numbered variations,
//! the macro directions, temperature, and the phrase plans of longer grooves and clip variations.

use super::model::GrooveSpec;
use super::take::Take;
use super::{MACROS, MACRO_REACH, VARIATION_SPREAD};
use crate::infer::latent;

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
        let mut z = latent::normals(self.seed, 0, spec.latent);
        if self.variation > 0 {
            let v = latent::normals(self.seed, self.variation as u64, spec.latent);
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

    /// The drummer who plays these knobs' grooves: one per seed and variation, so the macro and
    /// Temperature knobs morph a groove without changing who plays it.
    pub fn take(&self) -> Take {
        Take::Seeded { seed: self.seed, stream: self.variation as u64 }
    }
}

/// A latent near `center`: `spread` prior standard deviations of seeded noise away. Variations of
/// an encoded clip and the A′ phrases of longer grooves are made this way.
pub fn neighbour(center: &[f32], seed: u64, stream: u64, spread: f32) -> Vec<f32> {
    let noise = latent::normals(seed, 0x4e00_0000 + stream, center.len());
    center.iter().zip(noise).map(|(c, n)| c + spread * n).collect()
}

/// How far the primed phrases (A′, A″) of a longer groove stray from its A phrase, in prior
/// standard deviations.
pub const PHRASE_SPREAD: f32 = 0.3;

/// The 2-bar latents of a groove `phrases` patterns long: A A′ for 4 bars, A A′ A A″ for 8,
/// where the primed phrases are small seeded changes of A, like fills. `take` numbers the groove
/// among those made from one seed, so each gets its own changes.
pub fn phrase_plan(main: &[f32], seed: u64, take: u32, phrases: usize) -> Vec<Vec<f32>> {
    (0..phrases)
        .map(|j| match j % 2 {
            0 => main.to_vec(),
            _ => neighbour(main, seed, (take as u64) << 8 | j as u64, PHRASE_SPREAD),
        })
        .collect()
}

/// The 2-bar latents of variation `take` of an encoded clip (`clip`: one latent per 2 bars of
/// it, looped when the clip is shorter): each phrase `spread` prior standard deviations from the
/// clip's own latent at that position.
pub fn clip_variation(clip: &[Vec<f32>], seed: u64, take: u32, phrases: usize, spread: f32) -> Vec<Vec<f32>> {
    (0..phrases).map(|j| neighbour(&clip[j % clip.len()], seed, (take as u64) << 8 | j as u64, spread)).collect()
}

#[cfg(test)]
mod tests {
    use super::super::take::Spread;
    use super::super::LANE_NAMES;
    use super::*;

    #[test]
    fn knobs_are_deterministic_and_macros_move_their_dimension() {
        let spec = GrooveSpec {
            latent: 16,
            steps: 32,
            lanes: LANE_NAMES.map(String::from).to_vec(),
            macro_dims: (0..8).collect(),
            spread: Spread { velocity_spread: vec![0.2; 9], offset_spread: vec![0.2; 9] },
        };
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
    fn phrase_plans_repeat_a_and_vary_the_rest() {
        let main = latent::normals(5, 0, 16);
        let plan = phrase_plan(&main, 5, 0, 4);
        assert_eq!(plan.len(), 4);
        assert_eq!((&plan[0], &plan[2]), (&main, &main));
        assert_ne!(plan[1], main);
        assert_ne!(plan[1], plan[3], "A′ and A″ differ");
        assert_ne!(phrase_plan(&main, 5, 1, 4)[1], plan[1], "another take, other changes");
        assert_eq!(phrase_plan(&main, 5, 0, 1), vec![main.clone()]);

        let clip = vec![latent::normals(1, 0, 16), latent::normals(2, 0, 16)];
        let v = clip_variation(&clip, 3, 0, 3, 0.0);
        assert_eq!(v, vec![clip[0].clone(), clip[1].clone(), clip[0].clone()], "spread 0 gives the clip back, looped");
        assert_eq!(clip_variation(&clip, 3, 2, 2, 0.5), clip_variation(&clip, 3, 2, 2, 0.5));
    }
}
