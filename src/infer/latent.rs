//! Seeded points in a latent space: the same seed gives the same groove or kit on every machine,
//! so a project saved with a seed reopens with the same sounds.

/// `n` standard-normal values for (`seed`, `stream`), from SplitMix64 and Box–Muller: no
/// dependence on a random crate's version or the platform.
pub fn normals(seed: u64, stream: u64, n: usize) -> Vec<f32> {
    let mut state = seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ 0x9E37_79B9_7F4A_7C15;
    let mut next_unit = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // 53 random bits in (0, 1]: never 0, so the logarithm is finite.
        ((z >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    };
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
    fn arc_starts_and_ends_at_its_points() {
        let (a, b) = (normals(1, 0, 8), normals(2, 0, 8));
        assert_eq!(arc(&a, &b, 0.0), a);
        for (x, y) in arc(&a, &b, 1.0).iter().zip(&b) {
            assert!((x - y).abs() < 1e-6);
        }
    }
}
