//! `latentforge texture maps`: height, normal and roughness for colour maps you already have
//! (a photo, a painted albedo), from the material network or the brightness heuristic.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use latentforge::infer::ModelStore;
use latentforge::texture::exemplar::{Map, MapKind};
use latentforge::texture::{looks_like_normal_map, NormalConvention};

use super::exemplar::picture;
use super::{progress, ConventionArg, FormatArg, MapMaker, PbrArg};
use crate::cmd::limits::LimitArgs;
use crate::GlobalArgs;

pub const EXAMPLES: &str = "Examples:\n  \
    latentforge texture maps bricks.jpg --out-dir out/\n  \
    latentforge texture maps scans/*.png --normal-convention directx --bits 16 --out-dir maps/\n  \
    latentforge texture maps wall.png --method heuristic --out-dir old/\n\n\
    Writes <name>_height, <name>_normal_gl (or _normal_dx) and <name>_roughness beside each other in\n\
    the output folder. A tileable colour map gives tileable maps; any size works (large images run in\n\
    tiles with the same result).";

#[derive(Args)]
pub struct MapsArgs {
    /// Colour maps (PNG, JPEG, TIFF or EXR).
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<PathBuf>,
    /// network: the material network trained on artists' maps; heuristic: brightness-based.
    #[arg(long, value_enum, default_value_t = PbrArg::Network)]
    method: PbrArg,
    /// Green channel of the normal map: opengl (Y up: Blender, Unity) or directx (Y down: Unreal).
    #[arg(long, value_enum, default_value_t = ConventionArg::Opengl)]
    normal_convention: ConventionArg,
    /// Slope scale of the normal map (1 = as made).
    #[arg(long, default_value_t = 1.0)]
    normal_strength: f32,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
    /// File format: png (default) or exr.
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Bits per channel of PNG files (8 or 16; default 8).
    #[arg(long, value_parser = super::parse_bits)]
    bits: Option<u8>,
    /// Replace existing files.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

pub fn run(g: &GlobalArgs, args: MapsArgs) -> Result<u8> {
    if !(args.normal_strength.is_finite() && args.normal_strength > 0.0) {
        bail!("--normal-strength {} must be above 0", args.normal_strength);
    }
    let ext = match args.format {
        None | Some(FormatArg::Png) => "png",
        Some(FormatArg::Exr) => "exr",
        Some(FormatArg::Tif) => bail!("--format tif: maps are written as png or exr"),
    };
    let convention = NormalConvention::from(args.normal_convention);
    super::prepare_out_dir(&args.out_dir)?;
    let kinds = [MapKind::Height, MapKind::Normal(convention), MapKind::Roughness];
    let outputs = |image: &PathBuf| -> Vec<PathBuf> {
        let stem = image.file_stem().and_then(|s| s.to_str()).unwrap_or("map");
        kinds.iter().map(|k| args.out_dir.join(format!("{stem}_{}.{ext}", k.word()))).collect()
    };
    // Every output is checked before any work: a name clash or an input in the way stops the
    // run before it writes anything.
    let mut planned: Vec<PathBuf> = Vec::new();
    for image in &args.images {
        for out in outputs(image) {
            if planned.contains(&out) {
                bail!("two inputs would both write {}: give them different names", out.display());
            }
            crate::check_free(&out, args.force, Some(image))?;
            planned.push(out);
        }
    }
    let maker = match args.method {
        PbrArg::Network => {
            let store = ModelStore::locate(g.models.as_deref())?;
            MapMaker::load(args.method, &*crate::runtime(g)?, &store)?
        }
        PbrArg::Heuristic => MapMaker::Heuristic,
    };
    let bar = progress(g, args.images.len(), "colour maps");
    for image in &args.images {
        let colour = picture(&Map::read(image, &args.limits.limits(None))?, &MapKind::Color);
        if looks_like_normal_map(&colour) {
            bar.suspend(|| eprintln!("warning: {} looks like a normal map, not a colour map", image.display()));
        }
        let made = maker.maps(&colour, args.normal_strength, convention)?;
        for (map, out) in [&made.height, &made.normal, &made.roughness].into_iter().zip(outputs(image)) {
            map.write(&out, args.bits == Some(16))?;
        }
        if !g.quiet {
            bar.suspend(|| {
                println!("{} -> height, normal, roughness ({}x{})", image.display(), colour.width, colour.height)
            });
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(0)
}
