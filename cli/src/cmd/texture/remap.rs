//! `latentforge texture remap`: a saved coordinate map applied to maps that arrive later. Each
//! output pixel takes the map's pixel the coordinate map names (nearest, scaled when the map's
//! size differs from the exemplar's), in the map's own bit depth and format.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use latentforge::texture::exemplar::{self, CoordMap};
use latentforge::texture::map::Map;
use latentforge::texture::NormalConvention;

use super::{output_container, output_map, parse_maps};
use crate::args::{LimitArgs, MapFormatArgs, OutDirArgs};
use crate::output::{check_free, prepare_out_dir, Plan};
use crate::GlobalArgs;

pub const EXAMPLES: &str = "Examples:\n  \
    latentforge texture remap out/Rock051_2K_s1_coords.png --map roughness=Rock051_2K_Roughness_v2.png --out-dir out/\n  \
    latentforge texture remap v_s3_coords.exr --map mask=paint_mask.png --map normal-dx=rock_nrm.tif --out-dir out/\n\n\
    Outputs are named after the coordinate map: <name>_<kind>.<ext> for <name>_coords.png. Normal maps\n\
    are renormalised after resampling; every other map's values are copied unchanged.";

#[derive(Args)]
pub struct RemapArgs {
    /// A coordinate map written by `latentforge texture vary ... --save-coords`.
    coords: PathBuf,
    /// A map to resample (repeatable): KIND=FILE, KIND as for `texture vary --map`.
    #[arg(long = "map", value_name = "KIND=FILE", required = true)]
    maps: Vec<String>,
    #[command(flatten)]
    out: OutDirArgs,
    #[command(flatten)]
    format: MapFormatArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

pub fn run(g: &GlobalArgs, args: RemapArgs) -> Result<u8> {
    let coords = CoordMap::read(&args.coords, &args.limits.limits(None))?;
    let maps = parse_maps(&args.maps, NormalConvention::OpenGl)?;
    prepare_out_dir(&args.out.out_dir)?;
    let stem = args.coords.file_stem().and_then(|s| s.to_str()).unwrap_or("remapped");
    let stem = stem.strip_suffix("_coords").unwrap_or(stem);
    let mut plan = Plan::default();
    let mut planned = Vec::new();
    for (kind, file) in &maps {
        let map = Map::read(file, &args.limits.limits(None))?;
        let ext = output_container(&map, args.format.format).extension();
        let out = args.out.out_dir.join(format!("{stem}_{}.{ext}", kind.word()));
        plan.add(out.clone(), args.out.force, Some(file))?;
        check_free(&out, true, Some(&args.coords))?;
        planned.push((kind.clone(), map, out));
    }
    for (kind, map, out) in planned {
        output_map(exemplar::remap(&kind, &map, &coords), &kind, args.format.format, args.format.bits).write(&out)?;
        if !g.quiet {
            println!("{} ({}x{})", out.display(), coords.width, coords.height);
        }
    }
    Ok(0)
}
