//! `latentforge texture`: seamlessly tiling textures, one action per subcommand: [`generate`]
//! (the trained generator's materials), [`vary`] (variations of the artist's own material set),
//! [`maps`] (height, normal and roughness for colour maps) and [`remap`] (a saved coordinate map
//! applied to maps that arrive later). What several of them share lives here: the map maker, the
//! job selection of `generate` and `vary`, and how a map is written back.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use latentforge::infer::ModelStore;
use latentforge::texture::map::{Container, Map, MapKind};
use latentforge::texture::{pbr, MaterialModel, NormalConvention, NormalSettings, PbrMaps, Texture};

use crate::args::{usage, MapFormat, MapMethod, SliceArgs};
use crate::output::check_free;
use crate::GlobalArgs;

mod generate;
mod maps;
mod remap;
mod vary;

pub const EXAMPLES: &str = "Examples:\n  \
    latentforge texture generate --material rock --seed 7 --count 4 --pbr --out-dir out/\n  \
    latentforge texture vary Rock051_2K/ --count 4 --size 2048 --sheet --out-dir out/\n  \
    latentforge texture maps bricks.jpg --out-dir out/\n  \
    latentforge texture remap out/Rock051_2K_s1_coords.png --map roughness=Rock051_2K_Roughness_v2.png --out-dir out/\n\n\
    `latentforge texture ACTION --help` shows each action's flags and examples. Every output tiles\n\
    seamlessly; `latentforge upscale` makes maps 2x or 4x larger, keeping them tileable.";

#[derive(Args)]
pub struct TextureArgs {
    #[command(subcommand)]
    action: TextureAction,
}

#[derive(Subcommand)]
enum TextureAction {
    /// Textures from the trained generator's material classes (grass, rock, sand, soil, snow,
    /// paving): seeds, style mixing, latent walks, PBR maps.
    #[command(after_help = generate::EXAMPLES)]
    Generate(generate::GenerateArgs),
    /// Variations of your own material set (a folder of PBR maps, or one image), every map in step.
    #[command(after_help = vary::EXAMPLES)]
    Vary(vary::VaryArgs),
    /// Height, normal and roughness for colour maps you already have (a photo, a painted albedo),
    /// from the material network (or `--method heuristic`).
    #[command(after_help = maps::EXAMPLES)]
    Maps(maps::MapsArgs),
    /// Apply a saved coordinate map (`vary --save-coords`) to maps that arrive later: every output
    /// pixel takes the map's pixel the coordinate map names, so a new roughness pass or mask
    /// matches the variation it was saved with.
    #[command(after_help = remap::EXAMPLES)]
    Remap(remap::RemapArgs),
}

pub fn run(g: &GlobalArgs, args: TextureArgs) -> Result<u8> {
    match args.action {
        TextureAction::Generate(a) => generate::run(g, a),
        TextureAction::Vary(a) => vary::run(g, a),
        TextureAction::Maps(a) => maps::run(g, a),
        TextureAction::Remap(a) => remap::run(g, a),
    }
}

/// What makes height, normal and roughness from a colour map (`--method`).
pub enum MapMaker {
    Network(MaterialModel),
    Heuristic,
}

impl MapMaker {
    pub fn load(method: MapMethod, g: &GlobalArgs) -> Result<MapMaker> {
        Ok(match method {
            MapMethod::Network => {
                let store = ModelStore::locate(g.models.as_deref())?;
                MapMaker::Network(
                    MaterialModel::load(&*crate::runtime(g)?, &store)
                        .context("the material network did not load (`--method heuristic` needs no model)")?,
                )
            }
            MapMethod::Heuristic => MapMaker::Heuristic,
        })
    }

    pub fn maps(&self, colour: &Texture, normals: NormalSettings) -> Result<PbrMaps> {
        Ok(match self {
            MapMaker::Network(model) => model.maps(colour, normals)?,
            MapMaker::Heuristic => pbr::derive(colour, normals),
        })
    }
}

/// How `generate` and `vary` treat their jobs' files: which jobs this process runs (--frames,
/// --chunk), which are done already (--skip-existing), what may be replaced (--force).
pub struct JobFiles<'a> {
    pub slice: &'a SliceArgs,
    pub force: bool,
    pub sheet: bool,
    pub json: bool,
    pub quiet: bool,
}

impl JobFiles<'_> {
    /// The jobs of this run: --frames keeps those whose number (seed or walk step) is in the
    /// range, --chunk one slice.
    pub fn select<J>(&self, mut jobs: Vec<J>, number: impl Fn(&J) -> u64) -> Result<Vec<J>> {
        if let Some(range) = self.slice.frames {
            jobs.retain(|j| range.contains(number(j)));
            if jobs.is_empty() {
                return usage(format!(
                    "--frames {}-{}: no output of this command has its seed (or walk step) in that range",
                    range.first, range.last
                ));
            }
        }
        let chunk = self.slice.chunk()?;
        if self.sheet && chunk.count > 1 {
            return usage(
                "--sheet with --chunk: every chunk would write its own sheet.png; make the sheet in a separate run",
            );
        }
        let range = chunk.range(jobs.len());
        Ok(jobs.into_iter().skip(range.start).take(range.len()).collect())
    }

    /// With --skip-existing, a job whose files all exist and decode is done: reported and
    /// dropped. Every other job's files must be free to write (or --force).
    pub fn skip_done<J>(
        &self,
        jobs: Vec<J>,
        stem: impl Fn(&J) -> &str,
        files: impl Fn(&J) -> Vec<PathBuf>,
        decodes: impl Fn(&Path) -> bool,
    ) -> Result<Vec<J>> {
        let (done, todo): (Vec<J>, Vec<J>) =
            jobs.into_iter().partition(|j| self.slice.skip_existing && files(j).iter().all(|f| decodes(f)));
        for job in &done {
            if self.json {
                println!("{}", serde_json::json!({"item": stem(job), "skipped": true}));
            } else if !self.quiet {
                println!("{}: files exist and decode, skipped", stem(job));
            }
        }
        for job in &todo {
            for f in files(job) {
                check_free(&f, self.force, None)?;
            }
        }
        Ok(todo)
    }
}

/// Parses `--map KIND=FILE` values.
pub fn parse_maps(maps: &[String], convention: NormalConvention) -> Result<Vec<(MapKind, PathBuf)>> {
    maps.iter()
        .map(|m| {
            let Some((kind, file)) = m.split_once('=') else {
                return usage(format!("--map {m}: use KIND=FILE, e.g. --map roughness=rock_rough.png"));
            };
            let kind = match MapKind::from_flag(kind, convention) {
                Ok(kind) => kind,
                Err(e) => return usage(format!("--map {m}: {e}")),
            };
            Ok((kind, PathBuf::from(file)))
        })
        .collect()
}

/// The container a map is written in: its own unless --format names another.
pub fn output_container(map: &Map, format: Option<MapFormat>) -> Container {
    match format {
        Some(MapFormat::Png) => Container::Png,
        Some(MapFormat::Exr) => Container::Exr,
        Some(MapFormat::Tif) => Container::Tiff,
        None => map.container,
    }
}

/// The map as it is written: in its own container and bit depth unless --format/--bits say otherwise.
pub fn output_map(map: Map, kind: &MapKind, format: Option<MapFormat>, bits: Option<u8>) -> Map {
    let container = output_container(&map, format);
    if container == map.container && bits.is_none() {
        return map;
    }
    map.converted(container, bits, kind.is_srgb())
}
