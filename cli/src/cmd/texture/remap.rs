//! `latentforge texture remap`: a saved coordinate map applied to maps that arrive later. Each
//! output pixel takes the map's pixel the coordinate map names (nearest, scaled when the map's
//! size differs from the exemplar's), in the map's own bit depth and format.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use latentforge::texture::exemplar::{self, Map};
use latentforge::texture::NormalConvention;

use super::exemplar::{output_container, output_map, parse_maps, read_coords};
use super::FormatArg;
use crate::cmd::limits::LimitArgs;
use crate::GlobalArgs;

pub const EXAMPLES: &str = "Examples:\n  \
    latentforge texture remap out/Rock051_2K_s1_coords.png --map roughness=Rock051_2K_Roughness_v2.png --out-dir out/\n  \
    latentforge texture remap v_s3_coords.exr --map mask=paint_mask.png --map normal-dx=rock_nrm.tif --out-dir out/\n\n\
    Outputs are named after the coordinate map: <name>_<kind>.<ext> for <name>_coords.png. Normal maps\n\
    are renormalised after resampling; every other map's values are copied unchanged.";

#[derive(Args)]
pub struct RemapArgs {
    /// A coordinate map written by `latentforge texture --exemplar ... --save-coords`.
    coords: PathBuf,
    /// A map to resample (repeatable): KIND=FILE, KIND as for `texture --map`.
    #[arg(long = "map", value_name = "KIND=FILE", required = true)]
    maps: Vec<String>,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
    /// File format of the outputs (default: each map's own).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Bits per channel of PNG/TIFF outputs (default: each map's own).
    #[arg(long, value_parser = super::parse_bits)]
    bits: Option<u8>,
    /// Replace existing files.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

pub fn run(g: &GlobalArgs, args: RemapArgs) -> Result<u8> {
    let coords = read_coords(&args.coords, &args.limits.limits(None))?;
    let maps = parse_maps(&args.maps, NormalConvention::OpenGl)?;
    super::prepare_out_dir(&args.out_dir)?;
    let stem = args.coords.file_stem().and_then(|s| s.to_str()).unwrap_or("remapped");
    let stem = stem.strip_suffix("_coords").unwrap_or(stem);
    let mut planned = Vec::new();
    for (kind, file) in &maps {
        let map = Map::read(file, &args.limits.limits(None))?;
        let ext = output_container(&map, args.format).extension();
        let out = args.out_dir.join(format!("{stem}_{}.{ext}", kind.word()));
        if planned.iter().any(|(_, _, o): &(_, _, PathBuf)| *o == out) {
            bail!("two maps would both be written to {}; give them different kinds", out.display());
        }
        crate::check_free(&out, args.force, Some(file))?;
        crate::check_free(&out, true, Some(&args.coords))?;
        planned.push((kind.clone(), map, out));
    }
    for (kind, map, out) in planned {
        output_map(exemplar::remap(&kind, &map, &coords), &kind, args.format, args.bits).write(&out)?;
        if !g.quiet {
            println!("{} ({}x{})", out.display(), coords.width, coords.height);
        }
    }
    Ok(0)
}
