//! `latentforge texture vary`: seamless variations of the artist's own material set. One
//! coordinate map per variation, every map of the set resampled through it, each written in its
//! own bit depth and format (or the one --format/--bits ask for) under its own file name's suffix.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use latentforge::texture::exemplar::{self, Analysis, CoordMap, MaterialSet, Variation};
use latentforge::texture::map::{Map, MapKind};
use latentforge::texture::{contact_sheet, metrics, seam_score, NormalConvention, NormalSettings, Texture};

use super::{output_container, output_map, parse_maps, JobFiles, MapMaker};
use crate::args::{
    parse_size, usage, LimitArgs, MapFormat, MapFormatArgs, MethodArgs, NormalArgs, OutDirArgs, SeedArgs, SliceArgs,
    UpscaleFactorArgs,
};
use crate::cmd::upscale::MapUpscale;
use crate::events::Events;
use crate::output::{check_free, prepare_out_dir, progress};
use crate::GlobalArgs;

pub const EXAMPLES: &str = "Examples:\n  \
    latentforge texture vary Rock051_2K/ --count 4 --size 2048 --sheet --out-dir out/\n  \
    latentforge texture vary photo.jpg --exemplar-tiles no --variation 0.8 --save-coords --out-dir out/\n  \
    latentforge texture vary bricks_Color.png --map roughness=bricks_r.tif --map mask=m.png --out-dir out/\n  \
    latentforge texture vary Rock051_2K/ --pbr --upscale 2 --out-dir out/\n\n\
    Each variation tiles seamlessly and keeps every map in step. Outputs keep their input's names with\n\
    the seed after the set's name (Rock051_2K_Displacement.png -> Rock051_2K_s3_Displacement.png), and\n\
    each map's format and bit depth unless --format/--bits say otherwise. --pbr adds the height,\n\
    normal and roughness maps the set lacks (<set>_s<seed>_height.png...); --save-coords writes the\n\
    coordinate map `texture remap` applies to maps that arrive later.";

#[derive(Args)]
pub struct VaryArgs {
    /// The material: an image, or a folder holding one material set (files named like Rock_Color,
    /// _NormalGL/_NormalDX, _Roughness, _Height/_Displacement, _AO, _Metalness, _Opacity; ambientCG,
    /// Poly Haven, Quixel and Substance names work).
    #[arg(value_name = "SET")]
    set: Option<PathBuf>,
    /// Name a map of the set by hand (repeatable): KIND=FILE with KIND color, normal, normal-gl,
    /// normal-dx, roughness, height, ao, metalness, opacity, or any word of your own (mask=m.png).
    #[arg(long = "map", value_name = "KIND=FILE")]
    maps: Vec<String>,
    #[command(flatten)]
    seeds: SeedArgs,
    /// Size in pixels: N (square) or WxH, 16 to 8192 per side (default: the set's own size).
    #[arg(long, value_parser = parse_size)]
    size: Option<(usize, usize)>,
    /// Whether the set itself tiles: auto (measured from its edges), yes, or no (a photo:
    /// sampled only where a whole patch lies inside it, so the output still tiles).
    #[arg(long, value_enum, default_value_t = TilesArg::Auto)]
    exemplar_tiles: TilesArg,
    /// 0 to 1: 0 = the set's own layout, reshuffled locally; 1 = freely reassembled.
    #[arg(long, default_value_t = 0.5)]
    variation: f32,
    /// Also write each variation's coordinate map (<set>_s<seed>_coords.png, 16-bit; .exr with
    /// --format exr), for `latentforge texture remap`.
    #[arg(long)]
    save_coords: bool,
    /// Also write the height, normal and roughness maps the set lacks, made from each variation's
    /// colour map by --method.
    #[arg(long)]
    pbr: bool,
    #[command(flatten)]
    method: MethodArgs,
    #[command(flatten)]
    normals: NormalArgs,
    #[command(flatten)]
    upscale: UpscaleFactorArgs,
    /// Also write a contact sheet: the set, the variations, the first one tiled 3x3 (sheet.png).
    #[arg(long)]
    sheet: bool,
    #[command(flatten)]
    format: MapFormatArgs,
    #[command(flatten)]
    out: OutDirArgs,
    #[command(flatten)]
    slice: SliceArgs,
    /// One JSON object per variation on stdout (its files with their map kinds, seam, repetition
    /// and SWD scores) instead of text; the first line is the plan; `{"event":"progress",...}`
    /// lines come at least once a second while a variation is being made.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TilesArg {
    Auto,
    Yes,
    No,
}

/// A set whose wrap-around edge differs this much more than its inside does not tile.
const TILING_SEAM: f64 = 1.5;

struct Job {
    seed: u64,
    stem: String,
}

/// The set as read, and what the run makes of it.
struct Source {
    set: MaterialSet,
    /// The first map as a picture: what sheets, metrics and the tiling test look at.
    guide: Texture,
    tiles: bool,
    /// The kinds --pbr adds (those the set lacks).
    fill: Vec<MapKind>,
}

pub fn run(g: &GlobalArgs, args: VaryArgs) -> Result<u8> {
    if args.set.is_none() && args.maps.is_empty() {
        return usage(
            "say which material: texture vary SET (an image or a folder), or name its maps with --map KIND=FILE",
        );
    }
    let normals = args.normals.settings(1.0)?;
    let src = open(g, &args)?;
    let (ew, eh) = src.set.size();
    let max = latentforge::texture::MAX_SIZE;
    let (width, height) = args.size.unwrap_or((ew.min(max), eh.min(max)));
    // The set is analysed first: one too small for variations says so, naming its file.
    let analysis = Analysis::new(&src.set, src.tiles)?;
    let variation = Variation::new(args.seeds.seed, width, height, args.variation)?;
    // Every map of the set, and the maps --pbr makes, upscaled alike (tiling kept).
    let upscale = MapUpscale::load(args.upscale.upscale, (width, height), g)?;
    let maker = (!src.fill.is_empty()).then(|| MapMaker::load(args.method.method, g)).transpose()?;
    if let Some(colour) = src.set.maps.iter().find(|m| m.kind == MapKind::Color).filter(|_| maker.is_some()) {
        if latentforge::texture::looks_like_normal_map(&colour.map.picture(&colour.kind)) {
            eprintln!(
                "warning: {} looks like a normal map, not a colour map: --pbr makes its maps from it anyway",
                colour.path.display()
            );
        }
    }
    if !g.quiet && !args.json && maker.is_some() {
        let words: Vec<String> = src.fill.iter().map(|k| k.word()).collect();
        println!("{:>10} <- made from each variation's colour (--pbr)", words.join(", "));
    }
    prepare_out_dir(&args.out.out_dir)?;
    let names = Names { args: &args, set: &src.set, fill: if maker.is_some() { &src.fill } else { &[] } };
    let jobs: Vec<Job> =
        args.seeds.seeds().map(|seed| Job { seed, stem: format!("{}_s{seed}", src.set.name) }).collect();
    let run =
        JobFiles { slice: &args.slice, force: args.out.force, sheet: args.sheet, json: args.json, quiet: g.quiet };
    let jobs = run.select(jobs, |j| j.seed)?;
    if args.json {
        let stems: Vec<&str> = jobs.iter().map(|j| j.stem.as_str()).collect();
        let maps: Vec<serde_json::Value> =
            src.set.maps.iter().map(|m| serde_json::json!({"kind": m.kind.word(), "file": m.path})).collect();
        println!("{}", serde_json::json!({"plan": stems, "maps": maps, "exemplar_tiles": src.tiles}));
    }
    let lim = args.limits.limits(None);
    let files = |job: &Job| names.all(job).into_iter().map(|(_, f)| f).collect();
    let jobs = run.skip_done(jobs, |j| &j.stem, files, |f| Map::read(f, &lim).is_ok())?;
    // The set's own SWD spread, for --json's reading of each variation's SWD.
    let band = args.json.then(|| metrics::swd_band(&src.guide));
    let bar = progress(g.quiet, jobs.len(), "variations");
    let mut sheet: Vec<Texture> = vec![src.guide.resized(256, 256)];
    let events = Events::heartbeat(args.json, jobs.len());
    for job in &jobs {
        events.working_on(&job.stem);
        let coords = analysis.synthesize(&variation.with_seed(job.seed));
        let first = write_variation(&src, &names, job, &coords, &upscale, maker.as_ref().map(|m| (m, normals)))?;
        if args.json {
            let files: Vec<_> =
                names.all(job).iter().map(|(kind, f)| serde_json::json!({"kind": kind, "file": f})).collect();
            let line = serde_json::json!({
                "item": job.stem,
                "files": files,
                "seam": first.seams,
                "repetition": metrics::repetition_score(&first.picture, ew.min(eh) / 8),
                "verbatim": metrics::verbatim_from_coords(&coords, (ew, eh), src.tiles),
                "swd": metrics::swd(&first.picture, &src.guide, 0),
                "swd_band": band,
            });
            bar.suspend(|| println!("{line}"));
        } else if !g.quiet {
            let made = if maker.is_some() { src.fill.len() } else { 0 };
            let (w, h) = (width * upscale.factor(), height * upscale.factor());
            bar.suspend(|| println!("{}: {} maps, {w}x{h}", job.stem, src.set.maps.len() + made));
        }
        if args.sheet {
            sheet.push(first.picture.resized(256, 256));
        }
        events.finished(&job.stem);
        bar.inc(1);
    }
    drop(events);
    bar.finish_and_clear();
    if args.sheet {
        write_sheet(sheet, &args, g.quiet)?;
    }
    Ok(0)
}

/// Reads the set (and the maps named by hand), says what it found, and decides whether it tiles
/// and which maps --pbr adds.
fn open(g: &GlobalArgs, args: &VaryArgs) -> Result<Source> {
    let convention = args.normals.convention();
    let by_hand = parse_maps(&args.maps, convention)?;
    let set = MaterialSet::open(args.set.as_deref(), &by_hand, &args.limits.limits(None))?;
    for w in &set.warnings {
        eprintln!("warning: {w}");
    }
    let guide = set.maps[0].map.picture(&set.maps[0].kind);
    let tiles = match args.exemplar_tiles {
        TilesArg::Yes => true,
        TilesArg::No => false,
        TilesArg::Auto => seam_score(&guide) <= TILING_SEAM,
    };
    if !g.quiet && !args.json {
        for m in &set.maps {
            println!("{:>10} <- {} ({}x{})", m.kind.word(), m.path.display(), m.map.width, m.map.height);
        }
        if args.exemplar_tiles == TilesArg::Auto && !tiles {
            println!("the set does not tile (seam score {:.2}): sampling only inside it", seam_score(&guide));
        }
    }
    let fill = missing_maps(&set, args.pbr, convention)?;
    Ok(Source { set, guide, tiles, fill })
}

/// Where each output of a variation goes.
struct Names<'a> {
    args: &'a VaryArgs,
    set: &'a MaterialSet,
    /// The kinds --pbr makes (none without it).
    fill: &'a [MapKind],
}

impl Names<'_> {
    fn coords_ext(&self) -> &'static str {
        if self.args.format.format == Some(MapFormat::Exr) {
            "exr"
        } else {
            "png"
        }
    }

    /// The set's map `i` of `job`: `<set>_s<seed><its own suffix>.<ext>`.
    fn map(&self, job: &Job, i: usize) -> PathBuf {
        let m = &self.set.maps[i];
        let ext = output_container(&m.map, self.args.format.format).extension();
        self.args.out.out_dir.join(format!("{}{}.{ext}", job.stem, self.set.suffix(m)))
    }

    fn filled(&self, job: &Job, kind: &MapKind) -> PathBuf {
        self.args.out.out_dir.join(format!("{}_{}.{}", job.stem, kind.word(), self.coords_ext()))
    }

    fn coords(&self, job: &Job) -> PathBuf {
        self.args.out.out_dir.join(format!("{}_coords.{}", job.stem, self.coords_ext()))
    }

    /// Every file of `job` with its map kind (`coords` for the coordinate map).
    fn all(&self, job: &Job) -> Vec<(String, PathBuf)> {
        let mut f: Vec<(String, PathBuf)> =
            (0..self.set.maps.len()).map(|i| (self.set.maps[i].kind.word(), self.map(job, i))).collect();
        f.extend(self.fill.iter().map(|k| (k.word(), self.filled(job, k))));
        if self.args.save_coords {
            f.push(("coords".into(), self.coords(job)));
        }
        f
    }
}

/// What the first map of a variation looks like, for the sheet and --json.
struct FirstMap {
    picture: Texture,
    seams: serde_json::Map<String, serde_json::Value>,
}

/// Writes every map of one variation (and the maps --pbr makes, and its coordinates).
fn write_variation(
    src: &Source,
    names: &Names,
    job: &Job,
    coords: &CoordMap,
    upscale: &MapUpscale,
    maker: Option<(&MapMaker, NormalSettings)>,
) -> Result<FirstMap> {
    let (format, bits) = (names.args.format.format, names.args.format.bits);
    let mut seams = serde_json::Map::new();
    let mut first: Option<Texture> = None;
    let mut colour: Option<Texture> = None;
    for (i, m) in src.set.maps.iter().enumerate() {
        let out = output_map(exemplar::remap(&m.kind, &m.map, coords), &m.kind, format, bits);
        upscale.map(&out, &m.kind)?.write(&names.map(job, i))?;
        if maker.is_some() && m.kind == MapKind::Color {
            colour = Some(out.picture(&m.kind));
        }
        if names.args.json || first.is_none() {
            let pic = out.picture(&m.kind);
            if names.args.json {
                seams.insert(m.kind.word(), serde_json::json!(seam_score(&pic)));
            }
            first.get_or_insert(pic);
        }
    }
    if let (Some((maker, normals)), Some(colour)) = (maker, &colour) {
        let made = maker.maps(colour, normals)?;
        for kind in names.fill {
            let map = match kind {
                MapKind::Height => &made.height,
                MapKind::Normal(_) => &made.normal,
                _ => &made.roughness,
            };
            upscale.texture(map, kind)?.write(&names.filled(job, kind), bits == Some(16))?;
        }
    }
    if names.args.save_coords {
        coords.write(&names.coords(job))?;
    }
    Ok(FirstMap { picture: first.context("a set has one map at least")?, seams })
}

/// The sheet: the set, the variations, the first variation tiled 3x3.
fn write_sheet(mut sheet: Vec<Texture>, args: &VaryArgs, quiet: bool) -> Result<()> {
    if let Some(tiled) = sheet.get(1).map(tile3) {
        sheet.push(tiled);
    }
    let path = args.out.out_dir.join("sheet.png");
    check_free(&path, args.out.force, None)?;
    contact_sheet(&sheet, sheet.len().min(6), 256).write(&path, false)?;
    if !quiet && !args.json {
        println!("{} (exemplar, variations, the first variation tiled 3x3)", path.display());
    }
    Ok(())
}

/// The maps `--pbr` adds: height, normal and roughness where the set has none. Without --pbr,
/// none; with it, the set needs a colour map to make them from.
fn missing_maps(set: &MaterialSet, pbr: bool, convention: NormalConvention) -> Result<Vec<MapKind>> {
    if !pbr {
        return Ok(Vec::new());
    }
    let has = |want: fn(&MapKind) -> bool| set.maps.iter().any(|m| want(&m.kind));
    if !has(|k| *k == MapKind::Color) {
        return usage("--pbr makes height, normal and roughness from the colour map, and this set has none: name it with --map color=FILE");
    }
    let mut fill = Vec::new();
    if !has(|k| *k == MapKind::Height) {
        fill.push(MapKind::Height);
    }
    if !has(|k| matches!(k, MapKind::Normal(_))) {
        fill.push(MapKind::Normal(convention));
    }
    if !has(|k| *k == MapKind::Roughness) {
        fill.push(MapKind::Roughness);
    }
    if fill.is_empty() {
        eprintln!("warning: --pbr: the set already has height, normal and roughness maps; nothing to add");
    }
    Ok(fill)
}

/// A texture repeated 3x3, at the size of one tile: how it looks laid on a large surface.
fn tile3(t: &Texture) -> Texture {
    let mut out = Texture::new(t.width * 3, t.height * 3, t.encoding);
    for y in 0..out.height {
        for x in 0..out.width {
            for c in 0..3 {
                out.rgb[(y * out.width + x) * 3 + c] = t.at(x as isize, y as isize, c);
            }
        }
    }
    out.resized(t.width, t.height)
}
