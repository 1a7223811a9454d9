//! Seeded points in a latent space: the same seed gives the same groove or kit on every machine,
//! so a project saved with a seed reopens with the same sounds.

/// SplitMix64 over (`seed`, `stream`): 53 random bits per call, in (0, 1] (never 0, so a
/// logarithm of it is finite). No dependence on a random crate's version or the platform.
fn unit_stream(seed: u64, stream: u64) -> impl FnMut() -> f64 {
    let mut state = seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ 0x9E37_79B9_7F4A_7C15;
    move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }
}

/// A random 64-bit value for (`seed`, `stream`, `index`) with no state: what a parallel loop
/// draws per pixel, so its output does not depend on how the work is split between threads.
pub fn hash(seed: u64, stream: u64, index: u64) -> u64 {
    let mut z = seed
        ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03)
        ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(0x632B_E59B_D9B4_E019);
    for _ in 0..2 {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    z
}

/// [`hash`] as a value uniform in [-1, 1).
pub fn hash_signed(seed: u64, stream: u64, index: u64) -> f32 {
    ((hash(seed, stream, index) >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
}

/// `n` standard-normal values for (`seed`, `stream`), by Box–Muller.
pub fn normals(seed: u64, stream: u64, n: usize) -> Vec<f32> {
    let mut next_unit = unit_stream(seed, stream);
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let (u1, u2) = (next_unit(), next_unit());
        let r = (-2.0 * u1.ln()).sqrt();
        let a = std::f64::consts::TAU * u2;
        out.push((r * a.cos()) as f32);
        out.push((r * a.sin()) as f32);
    }
    out.truncate(n);
    out
}

/// `n` values uniform in (0, 1) for (`seed`, `stream`).
pub fn uniforms(seed: u64, stream: u64, n: usize) -> Vec<f64> {
    let mut next_unit = unit_stream(seed, stream);
    // (0, 1]: 1 itself (one draw in 2^53) is folded to the largest value below it.
    (0..n).map(|_| next_unit().min(1.0 - f64::EPSILON)).collect()
}

/// The point at angle `turn` × 90° on the great circle through `a` and `b` (both roughly on the
/// prior's shell): a path through latent space that stays in-distribution all the way.
pub fn arc(a: &[f32], b: &[f32], turn: f32) -> Vec<f32> {
    let t = if turn.is_finite() { turn } else { 0.0 } * std::f32::consts::FRAC_PI_2;
    a.iter().zip(b).map(|(x, y)| x * t.cos() + y * t.sin()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normals_are_reproducible_and_standard() {
        let a = normals(42, 3, 20_000);
        assert_eq!(a, normals(42, 3, 20_000));
        assert_ne!(a[..8], normals(42, 4, 8)[..]);
        assert_ne!(a[..8], normals(43, 3, 8)[..]);
        let mean = a.iter().sum::<f32>() / a.len() as f32;
        let var = a.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / a.len() as f32;
        assert!(mean.abs() < 0.03 && (var - 1.0).abs() < 0.05, "mean {mean} var {var}");
        assert!(a.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn uniforms_are_reproducible_and_inside_the_unit_interval() {
        let u = uniforms(7, 1, 10_000);
        assert_eq!(u, uniforms(7, 1, 10_000));
        assert_ne!(u[..8], uniforms(7, 2, 8)[..]);
        assert!(u.iter().all(|&x| x > 0.0 && x < 1.0));
        let mean = u.iter().sum::<f64>() / u.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
    }

    #[test]
    fn arc_starts_and_ends_at_its_points() {
        let (a, b) = (normals(1, 0, 8), normals(2, 0, 8));
        assert_eq!(arc(&a, &b, 0.0), a);
        for (x, y) in arc(&a, &b, 1.0).iter().zip(&b) {
            assert!((x - y).abs() < 1e-6);
        }
    }
}
