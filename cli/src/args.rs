//! Flag groups and value parsers that several commands share, each defined once: seeds and
//! counts, slicing a job (`--frames`, `--chunk`, `--skip-existing`), the output folder, file
//! formats, the upscale factor, normal maps, the map-making method and decode limits. Parsers
//! check a value's spelling (`1024` or `2048x1024`); the engine's request types check its range
//! once, and [`crate::exit_code`] turns either failure into exit code 2.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use latentforge::farm::{Chunk, ChunkSpec, FrameRange};
use latentforge::invalid::InvalidValue;
use latentforge::io::limits::{DecodeLimits, MAX_PIXELS};
use latentforge::texture::{NormalConvention, NormalSettings};

/// A command line that parsed but does not make sense (a missing choice, flags that do not go
/// together): exit code 2, like a parse error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// `Err(UsageError)` as an `anyhow` error, for `?` and `return`.
pub fn usage<T>(message: impl Into<String>) -> Result<T> {
    Err(UsageError(message.into()).into())
}

/// `--seed`, `--count`: the seeds a command makes, one after another.
#[derive(Args)]
pub struct SeedArgs {
    /// Seed of the first output; the others take the next seeds.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How many outputs.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub count: u32,
}

impl SeedArgs {
    pub fn seeds(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.count as u64).map(|k| self.seed + k)
    }
}

/// The flags that make a `denoise` or `texture` job divisible; both commands flatten them in.
#[derive(Args)]
pub struct SliceArgs {
    /// Only these frames of a `####` sequence (textures: these seeds, or walk steps with
    /// --interpolate): A-B or A-BxSTEP (e.g. 1-240, 1-240x2).
    #[arg(long, value_name = "A-B[xS]")]
    pub frames: Option<FrameRange>,
    /// Only the I-th of N equal, disjoint slices of the job (0 <= I < N); I may name an
    /// environment variable set by a farm's scheduler: --chunk SLURM_ARRAY_TASK_ID/8.
    #[arg(long, value_name = "I/N")]
    pub chunk: Option<ChunkSpec>,
    /// Skip what is done already: outputs that exist and decode (a re-run after a node failure).
    #[arg(long)]
    pub skip_existing: bool,
}

impl SliceArgs {
    /// The chunk this process runs, its index read from the environment when --chunk names a variable.
    pub fn chunk(&self) -> Result<Chunk> {
        Ok(match &self.chunk {
            Some(spec) => spec.resolve(|var| std::env::var(var).ok())?,
            None => Chunk::ALL,
        })
    }
}

/// `--out-dir`, `--force`: where a command writes, and whether it may replace files there.
#[derive(Args)]
pub struct OutDirArgs {
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR", required = true)]
    pub out_dir: PathBuf,
    /// Replace existing files (never an input).
    #[arg(long)]
    pub force: bool,
}

/// Formats of files a command makes from nothing (generated textures, made maps).
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum ImageFormat {
    Png,
    Exr,
}

impl ImageFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Exr => "exr",
        }
    }
}

/// `--format`, `--bits` for files a command makes from nothing.
#[derive(Args)]
pub struct ImageFormatArgs {
    /// File format.
    #[arg(long, value_enum, default_value_t = ImageFormat::Png)]
    pub format: ImageFormat,
    /// Bits per channel of PNG files: 8 or 16.
    #[arg(long, default_value_t = 8, value_parser = parse_bits)]
    pub bits: u8,
}

/// Formats a map may be rewritten in.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum MapFormat {
    Png,
    Exr,
    Tif,
}

/// `--format`, `--bits` for maps made from maps (variations, remapped maps): each keeps its own
/// format and bit depth unless these say otherwise.
#[derive(Args)]
pub struct MapFormatArgs {
    /// File format (default: each map's own, PNG, TIFF or EXR).
    #[arg(long, value_enum)]
    pub format: Option<MapFormat>,
    /// Bits per channel of PNG and TIFF files: 8 or 16 (default: each map's own).
    #[arg(long, value_parser = parse_bits)]
    pub bits: Option<u8>,
}

/// `--upscale 2|4`.
#[derive(Args)]
pub struct UpscaleFactorArgs {
    /// Upscale every map written by 2 or 4 with the trained upscaler, keeping it tileable.
    #[arg(long, value_name = "2|4", value_parser = parse_scale)]
    pub upscale: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum ConventionArg {
    Opengl,
    Directx,
}

impl From<ConventionArg> for NormalConvention {
    fn from(arg: ConventionArg) -> NormalConvention {
        match arg {
            ConventionArg::Opengl => NormalConvention::OpenGl,
            ConventionArg::Directx => NormalConvention::DirectX,
        }
    }
}

/// `--normal-convention`, `--normal-strength`: how normal maps are made.
#[derive(Args)]
pub struct NormalArgs {
    /// Green channel of the normal map: opengl (Y up: Blender, Unity) or directx (Y down: Unreal).
    #[arg(long, value_enum, default_value_t = ConventionArg::Opengl)]
    pub normal_convention: ConventionArg,
    /// Slope scale of the normal map, above 0 (default: a preset's, else 1).
    #[arg(long, value_name = "S")]
    pub normal_strength: Option<f32>,
}

impl NormalArgs {
    pub fn convention(&self) -> NormalConvention {
        self.normal_convention.into()
    }

    /// The settings, with `default_strength` when the flag is absent.
    pub fn settings(&self, default_strength: f32) -> Result<NormalSettings, InvalidValue> {
        NormalSettings::new(self.normal_strength.unwrap_or(default_strength), self.convention())
    }
}

/// How height, normal and roughness are made from a colour map.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum MapMethod {
    /// The material network, trained on artists' maps (models/material).
    Network,
    /// Height from brightness, normals from its slopes, roughness from a brightness curve.
    Heuristic,
}

/// `--method network|heuristic`: the same choice wherever maps are made.
#[derive(Args)]
pub struct MethodArgs {
    /// How height, normal and roughness are made: network (the trained material network) or
    /// heuristic (from brightness; no model needed).
    #[arg(long, value_enum, default_value_t = MapMethod::Network)]
    pub method: MapMethod,
}

/// `--max-pixels`, shared by every command that reads images: the guard against damaged headers.
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

/// `N` (square) or `WxH`; the range is the request's to check.
pub fn parse_size(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("`{s}` is not a size: use N (square) or WxH, e.g. 1024 or 2048x1024");
    match s.split_once(['x', 'X']) {
        Some((w, h)) => Ok((w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?)),
        None => s.parse().map(|n| (n, n)).map_err(|_| bad()),
    }
}

pub fn parse_bits(s: &str) -> Result<u8, String> {
    match s {
        "8" => Ok(8),
        "16" => Ok(16),
        _ => Err(format!("`{s}`: 8 or 16 bits per channel")),
    }
}

pub fn parse_scale(s: &str) -> Result<usize, String> {
    match s {
        "2" => Ok(2),
        "4" => Ok(4),
        _ => Err(format!("`{s}`: the scale is 2 or 4")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_square_or_wide() {
        assert_eq!(parse_size("1024"), Ok((1024, 1024)));
        assert_eq!(parse_size("2048x1024"), Ok((2048, 1024)));
        assert!(parse_size("big").unwrap_err().contains("WxH"));
    }
}
