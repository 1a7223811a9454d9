//! Decode limits: what a file's header may claim before the engine allocates for it. Files come
//! from other people's machines and shares, so a header is checked against these limits before
//! any buffer sized by it exists, and an over-limit file is an error naming the claim and the
//! flag that raises the limit.

use std::path::{Path, PathBuf};

/// Largest width or height a decoded image may claim (a 16K render, an 8K texture fit).
pub const MAX_SIDE: usize = 16384;
/// Largest pixel count a decoded image may claim (16384 x 16384).
pub const MAX_PIXELS: usize = MAX_SIDE * MAX_SIDE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    pub max_side: usize,
    pub max_pixels: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits { max_side: MAX_SIDE, max_pixels: MAX_PIXELS }
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "{path}: header claims {width}x{height} ({pixels}), over the {limit} limit (--max-pixels raises it)",
    pixels = human_pixels(*width as u128 * *height as u128),
    limit = limit_text(limits)
)]
pub struct OverLimit {
    pub path: PathBuf,
    pub width: usize,
    pub height: usize,
    pub limits: DecodeLimits,
}

fn human_pixels(n: u128) -> String {
    match n {
        n if n >= 1_000_000_000 => format!("{} G pixels", n / 1_000_000_000),
        n if n >= 1_000_000 => format!("{} M pixels", n / 1_000_000),
        n => format!("{n} pixels"),
    }
}

fn limit_text(l: &DecodeLimits) -> String {
    format!("{} pixel / {} per side", human_pixels(l.max_pixels as u128), l.max_side)
}

impl DecodeLimits {
    /// Checks the size a header claims; zero sides are the caller's to reject as corrupt.
    pub fn check(&self, path: &Path, width: usize, height: usize) -> Result<(), OverLimit> {
        let pixels = width as u128 * height as u128;
        if width > self.max_side || height > self.max_side || pixels > self.max_pixels as u128 {
            return Err(OverLimit { path: path.to_path_buf(), width, height, limits: *self });
        }
        Ok(())
    }

    /// Bytes a decoder may allocate for one image of `bytes_per_pixel`, for decoders that take
    /// an allocation cap (the `image` crate).
    pub fn max_alloc(&self, bytes_per_pixel: usize) -> u64 {
        (self.max_pixels as u64).saturating_mul(bytes_per_pixel as u64).saturating_add(1 << 20)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_limit_names_the_file_the_claim_and_the_flag() {
        let l = DecodeLimits::default();
        assert!(l.check(Path::new("a.exr"), 16384, 16384).is_ok());
        let e = l.check(Path::new("frame.exr"), 100_000, 100_000).unwrap_err().to_string();
        assert!(e.contains("frame.exr") && e.contains("100000x100000") && e.contains("10 G pixels"), "{e}");
        assert!(e.contains("--max-pixels"), "{e}");
        assert!(l.check(Path::new("a.png"), 20000, 10).is_err(), "a side over the limit");
    }
}
