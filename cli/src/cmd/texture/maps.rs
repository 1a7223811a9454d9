//! `latentforge texture maps`: height, normal and roughness for colour maps you already have
//! (a photo, a painted albedo), from the material network or the brightness heuristic.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use latentforge::texture::looks_like_normal_map;
use latentforge::texture::map::{Map, MapKind};

use super::MapMaker;
use crate::args::{ImageFormatArgs, LimitArgs, MethodArgs, NormalArgs, OutDirArgs};
use crate::events::Events;
use crate::output::{prepare_out_dir, progress, Plan};
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
    #[command(flatten)]
    method: MethodArgs,
    #[command(flatten)]
    normals: NormalArgs,
    #[command(flatten)]
    out: OutDirArgs,
    #[command(flatten)]
    format: ImageFormatArgs,
    #[command(flatten)]
    limits: LimitArgs,
    /// Events on stdout, one JSON object per line (started, progress at least once a second,
    /// each file with its map kind, error naming the input, done) instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(g: &GlobalArgs, args: MapsArgs) -> Result<u8> {
    let normals = args.normals.settings(1.0)?;
    let ext = args.format.format.extension();
    let out_dir = &args.out.out_dir;
    prepare_out_dir(out_dir)?;
    let kinds = [MapKind::Height, MapKind::Normal(normals.convention()), MapKind::Roughness];
    let outputs = |image: &PathBuf| -> Vec<PathBuf> {
        let stem = image.file_stem().and_then(|s| s.to_str()).unwrap_or("map");
        kinds.iter().map(|k| out_dir.join(format!("{stem}_{}.{ext}", k.word()))).collect()
    };
    // Every output is checked before any work: a name clash or an input in the way stops the
    // run before it writes anything.
    let mut plan = Plan::default();
    for image in &args.images {
        for out in outputs(image) {
            plan.add(out, args.out.force, Some(image))?;
        }
    }
    let maker = MapMaker::load(args.method.method, g)?;
    let events = Events::start(args.json, "texture maps", &args.images);
    let bar = progress(g.quiet || args.json, args.images.len(), "colour maps");
    for image in &args.images {
        events.working_on(image.to_string_lossy());
        let made = || -> Result<()> {
            let colour = Map::read(image, &args.limits.limits(None))?.picture(&MapKind::Color);
            if looks_like_normal_map(&colour) {
                bar.suspend(|| eprintln!("warning: {} looks like a normal map, not a colour map", image.display()));
            }
            let made = maker.maps(&colour, normals)?;
            let maps = [&made.height, &made.normal, &made.roughness];
            for ((map, out), kind) in maps.into_iter().zip(outputs(image)).zip(&kinds) {
                map.write(&out, args.format.bits == 16)?;
                events.file(image, &out, &kind.word());
            }
            if !g.quiet && !args.json {
                let (w, h) = (colour.width, colour.height);
                bar.suspend(|| println!("{} -> height, normal, roughness ({w}x{h})", image.display()));
            }
            Ok(())
        };
        if let Err(e) = made() {
            events.failed(image, &e);
            return Err(e);
        }
        events.finished(image.to_string_lossy());
        bar.inc(1);
    }
    bar.finish_and_clear();
    events.done();
    Ok(0)
}
