//! `latentforge texture --exemplar`: seamless variations of the artist's own material set. One
//! coordinate map per variation, every map of the set resampled through it, each written in its
//! own bit depth and format (or the one --format/--bits ask for).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use latentforge::io::frame::Encoding;
use latentforge::io::limits::DecodeLimits;
use latentforge::texture::exemplar::{self, Analysis, Container, CoordMap, Map, MapKind, MaterialSet, Variation};
use latentforge::texture::{contact_sheet, metrics, seam_score, NormalConvention, Texture};

use super::{parse_size, progress, select, skip_done, FormatArg, MapMaker, TextureArgs};
use crate::cmd::limits::LimitArgs;
use crate::cmd::upscale::MapUpscale;
use crate::GlobalArgs;

#[derive(Args)]
pub struct ExemplarArgs {
    /// Make variations of your own material: an image, or a folder holding one material set
    /// (files named like Rock_Color, _NormalGL/_NormalDX, _Roughness, _Height/_Displacement,
    /// _AO, _Metalness, _Opacity; ambientCG, Poly Haven, Quixel and Substance names work).
    #[arg(long, value_name = "IMAGE|DIR")]
    pub exemplar: Option<PathBuf>,
    /// Name a map of the set by hand (repeatable): KIND=FILE with KIND color, normal, normal-gl,
    /// normal-dx, roughness, height, ao, metalness, opacity, or any word of your own (mask=m.png).
    #[arg(long = "map", value_name = "KIND=FILE")]
    pub maps: Vec<String>,
    /// Whether the exemplar itself tiles: auto (measured from its edges), yes, or no (a photo:
    /// sampled only where a whole patch lies inside it, so the output still tiles).
    #[arg(long, value_enum, default_value_t = TilesArg::Auto)]
    pub exemplar_tiles: TilesArg,
    /// 0..1: 0 = the exemplar's own layout, reshuffled locally; 1 = freely reassembled.
    #[arg(long, default_value_t = 0.5)]
    pub variation: f32,
    /// Also write each variation's coordinate map (<set>_s<seed>_coords.png, 16-bit; .exr with
    /// --format exr), for `latentforge texture remap`.
    #[arg(long)]
    pub save_coords: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TilesArg {
    Auto,
    Yes,
    No,
}

/// An exemplar whose wrap-around edge differs this much more than its inside does not tile.
const TILING_SEAM: f64 = 1.5;

/// Parses `--map KIND=FILE` values.
pub fn parse_maps(maps: &[String], convention: NormalConvention) -> Result<Vec<(MapKind, PathBuf)>> {
    maps.iter()
        .map(|m| {
            let Some((kind, file)) = m.split_once('=') else {
                bail!("--map {m}: use KIND=FILE, e.g. --map roughness=rock_rough.png");
            };
            let kind = MapKind::from_flag(kind, convention).map_err(|e| anyhow::anyhow!("--map {m}: {e}"))?;
            Ok((kind, PathBuf::from(file)))
        })
        .collect()
}

/// The container a map is written in: its own unless --format names another.
pub fn output_container(map: &Map, format: Option<FormatArg>) -> Container {
    match format {
        Some(FormatArg::Png) => Container::Png,
        Some(FormatArg::Exr) => Container::Exr,
        Some(FormatArg::Tif) => Container::Tiff,
        None => map.container,
    }
}

/// The map as it is written: in its own container and bit depth unless --format/--bits say otherwise.
pub fn output_map(map: Map, kind: &MapKind, format: Option<FormatArg>, bits: Option<u8>) -> Map {
    let container = output_container(&map, format);
    if container == map.container && bits.is_none() {
        return map;
    }
    map.converted(container, bits, kind.is_srgb())
}

/// A map as an sRGB picture (first three channels) for sheets and metrics.
pub fn picture(map: &Map, kind: &MapKind) -> Texture {
    let linear = kind.is_srgb() && map.container == Container::Exr;
    let mut rgb = map.rgb();
    if linear {
        rgb.iter_mut().for_each(|v| *v = latentforge::io::transfer::linear_to_srgb(*v).clamp(0.0, 1.0));
    }
    Texture { width: map.width, height: map.height, rgb, encoding: Encoding::Srgb }
}

struct Job {
    seed: u64,
    stem: String,
}

pub fn run(g: &GlobalArgs, args: &TextureArgs, out_dir: &Path) -> Result<u8> {
    let ex = &args.exemplar;
    if args.preset.is_some() || args.interpolate.is_some() || args.mix.is_some() {
        bail!(
            "--preset, --interpolate and --mix are for --material textures; --exemplar makes variations of your maps"
        );
    }
    if !(0.0..=1.0).contains(&ex.variation) {
        bail!("--variation {} is outside 0..1", ex.variation);
    }
    let convention = NormalConvention::from(args.normal_convention);
    let by_hand = parse_maps(&ex.maps, convention)?;
    let set = MaterialSet::open(ex.exemplar.as_deref(), &by_hand, &ex.limits.limits(None))?;
    for w in &set.warnings {
        eprintln!("warning: {w}");
    }
    let (ew, eh) = set.size();
    let guide = picture(&set.maps[0].map, &set.maps[0].kind);
    let tiles = match ex.exemplar_tiles {
        TilesArg::Yes => true,
        TilesArg::No => false,
        TilesArg::Auto => seam_score(&guide) <= TILING_SEAM,
    };
    if !g.quiet && !args.json {
        for m in &set.maps {
            println!("{:>10} <- {} ({}x{})", m.kind.word(), m.path.display(), m.map.width, m.map.height);
        }
        if ex.exemplar_tiles == TilesArg::Auto && !tiles {
            println!("the exemplar does not tile (seam score {:.2}): sampling only inside it", seam_score(&guide));
        }
    }
    let fill = missing_maps(&set, args, convention)?;
    if let Some(s) = args.normal_strength.filter(|s| !(s.is_finite() && *s > 0.0)) {
        bail!("--normal-strength {s} must be above 0");
    }
    let maker = match (args.pbr, fill.is_empty()) {
        (Some(method), false) => {
            let store = latentforge::infer::ModelStore::locate(g.models.as_deref())?;
            Some(MapMaker::load(method, &*crate::runtime(g)?, &store)?)
        }
        _ => None,
    };
    if let Some(colour) = set.maps.iter().find(|m| m.kind == MapKind::Color).filter(|_| maker.is_some()) {
        if latentforge::texture::looks_like_normal_map(&picture(&colour.map, &colour.kind)) {
            eprintln!(
                "warning: {} looks like a normal map, not a colour map: --pbr makes its maps from it anyway",
                colour.path.display()
            );
        }
    }
    if !g.quiet && !args.json && maker.is_some() {
        let words: Vec<String> = fill.iter().map(|k| k.word()).collect();
        println!("{:>10} <- made from each variation's colour (--pbr)", words.join(", "));
    }
    let analysis = Analysis::new(&set, tiles)?;
    let max = latentforge::texture::MAX_SIZE;
    let (width, height) = args.size.unwrap_or((ew.min(max), eh.min(max)));
    parse_size(&format!("{width}x{height}")).map_err(anyhow::Error::msg)?;
    // Every map of the set, and the maps --pbr makes, upscaled alike (tiling kept).
    let upscale = MapUpscale::load(args.upscale, (width, height), g)?;
    let jobs: Vec<Job> = (0..args.count as u64)
        .map(|k| Job { seed: args.seed + k, stem: format!("{}_s{}", set.name, args.seed + k) })
        .collect();
    let jobs = select(jobs, |j| j.seed, args)?;
    let ext = |m: &Map| output_container(m, args.format).extension();
    let coords_ext = if args.format == Some(FormatArg::Exr) { "exr" } else { "png" };
    let filled_path = |job: &Job, kind: &MapKind| out_dir.join(format!("{}_{}.{coords_ext}", job.stem, kind.word()));
    let files = |job: &Job| -> Vec<PathBuf> {
        let mut f: Vec<PathBuf> =
            set.maps.iter().map(|m| out_dir.join(format!("{}_{}.{}", job.stem, m.kind.word(), ext(&m.map)))).collect();
        if maker.is_some() {
            f.extend(fill.iter().map(|k| filled_path(job, k)));
        }
        if ex.save_coords {
            f.push(out_dir.join(format!("{}_coords.{coords_ext}", job.stem)));
        }
        f
    };
    if args.json {
        let stems: Vec<&str> = jobs.iter().map(|j| j.stem.as_str()).collect();
        let maps: Vec<serde_json::Value> =
            set.maps.iter().map(|m| serde_json::json!({"kind": m.kind.word(), "file": m.path})).collect();
        println!("{}", serde_json::json!({"plan": stems, "maps": maps, "exemplar_tiles": tiles}));
    }
    let lim = ex.limits.limits(None);
    let jobs = skip_done(jobs, |j| &j.stem, files, |f| Map::read(f, &lim).is_ok(), args, g)?;
    // The exemplar's own SWD spread, for --json's reading of each variation's SWD.
    let band = args.json.then(|| metrics::swd_band(&guide));
    let bar = progress(g, jobs.len(), "variations");
    let mut sheet: Vec<Texture> = vec![guide.resized(256, 256)];
    let mut tiled: Option<Texture> = None;
    for job in &jobs {
        let coords = analysis.synthesize(&Variation { seed: job.seed, width, height, variation: ex.variation });
        let mut seams = serde_json::Map::new();
        let mut first: Option<Texture> = None;
        let mut colour: Option<Texture> = None;
        for m in &set.maps {
            let out = output_map(exemplar::remap(&m.kind, &m.map, &coords), &m.kind, args.format, args.bits);
            let path = out_dir.join(format!("{}_{}.{}", job.stem, m.kind.word(), out.container.extension()));
            upscale.map(&out, &m.kind)?.write(&path)?;
            if maker.is_some() && m.kind == MapKind::Color {
                colour = Some(picture(&out, &m.kind));
            }
            if args.json || (args.sheet && first.is_none()) {
                let pic = picture(&out, &m.kind);
                seams.insert(m.kind.word(), serde_json::json!(seam_score(&pic)));
                first.get_or_insert(pic);
            }
        }
        if let (Some(maker), Some(colour)) = (&maker, &colour) {
            let made = maker.maps(colour, args.normal_strength.unwrap_or(1.0), convention)?;
            for kind in &fill {
                let map = match kind {
                    MapKind::Height => &made.height,
                    MapKind::Normal(_) => &made.normal,
                    _ => &made.roughness,
                };
                upscale.texture(map, kind)?.write(&filled_path(job, kind), args.bits == Some(16))?;
            }
        }
        if ex.save_coords {
            coords.write(&out_dir.join(format!("{}_coords.{coords_ext}", job.stem)))?;
        }
        if args.json {
            let pic = first.as_ref().expect("a set has one map at least");
            let swd = metrics::swd(pic, &guide, 0);
            let line = serde_json::json!({
                "item": job.stem,
                "seam": seams,
                "repetition": metrics::repetition_score(pic, ew.min(eh) / 8),
                "verbatim": metrics::verbatim_from_coords(&coords, (ew, eh), tiles),
                "swd": swd,
                "swd_band": band,
            });
            bar.suspend(|| println!("{line}"));
        } else if !g.quiet {
            let made = if maker.is_some() { fill.len() } else { 0 };
            let (w, h) = (width * upscale.factor(), height * upscale.factor());
            bar.suspend(|| println!("{}: {} maps, {w}x{h}", job.stem, set.maps.len() + made));
        }
        if args.sheet {
            let pic = first.context("a set has one map at least")?;
            if tiled.is_none() {
                tiled = Some(tile3(&pic.resized(256, 256)));
            }
            sheet.push(pic.resized(256, 256));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if args.sheet {
        sheet.extend(tiled);
        let path = out_dir.join("sheet.png");
        crate::check_free(&path, args.force, None)?;
        contact_sheet(&sheet, sheet.len().min(6), 256).write(&path, false)?;
        if !g.quiet && !args.json {
            println!("{} (exemplar, variations, the first variation tiled 3x3)", path.display());
        }
    }
    Ok(0)
}

/// The maps `--pbr` adds: height, normal and roughness where the set has none. Without --pbr,
/// none; with it, the set needs a colour map to make them from.
fn missing_maps(set: &MaterialSet, args: &TextureArgs, convention: NormalConvention) -> Result<Vec<MapKind>> {
    if args.pbr.is_none() {
        return Ok(Vec::new());
    }
    let has = |want: fn(&MapKind) -> bool| set.maps.iter().any(|m| want(&m.kind));
    if !has(|k| *k == MapKind::Color) {
        bail!("--pbr makes height, normal and roughness from the colour map, and this set has none: name it with --map color=FILE");
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

/// Reads a saved coordinate map with the same decode limits.
pub fn read_coords(path: &Path, limits: &DecodeLimits) -> Result<CoordMap> {
    Ok(CoordMap::read(path, limits)?)
}
