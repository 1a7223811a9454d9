//! `--max-pixels`, shared by every command that reads images: the guard against damaged headers.

use clap::Args;
use latentforge::io::limits::{DecodeLimits, MAX_PIXELS};

#[derive(Args, Clone, Debug, Default)]
pub struct LimitArgs {
    /// Largest image a file's header may claim, in pixels [default: 268435456, 16384 x 16384].
    /// A file claiming more is refused before anything is allocated for it; raise this for
    /// larger renders.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_pixels: Option<u64>,
}

impl LimitArgs {
    /// The limits: the flag, else `preset`'s value, else the default.
    pub fn limits(&self, preset: Option<u64>) -> DecodeLimits {
        let max = self.max_pixels.or(preset).map_or(MAX_PIXELS, |n| n.min(usize::MAX as u64) as usize);
        DecodeLimits::with_max_pixels(max)
    }
}
