//! `latentforge texture`: seeded, seamlessly tiling textures: from the trained generator's
//! material classes (this file), as variations of the artist's own material set ([`exemplar`]),
//! and a saved coordinate map applied to maps that arrive later (`texture remap`, [`remap`]).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use latentforge::infer::ModelStore;
use latentforge::io::frame;
use latentforge::io::limits::DecodeLimits;
use latentforge::presets::{self, Preset, TexturePreset};
use latentforge::texture::exemplar::MapKind;
use latentforge::texture::{pbr, synth, MaterialModel, NormalConvention, Style, Texture, TextureModel, TextureRequest};

use crate::cmd::farm::SliceArgs;
use crate::cmd::upscale::MapUpscale;
use crate::GlobalArgs;

mod exemplar;
mod maps;

pub use exemplar::picture;
mod remap;

pub const EXAMPLES: &str = "Examples:\n  \
    latentforge texture --material rock --seed 7 --count 4 --size 1024 --pbr --out-dir out/\n  \
    latentforge texture --preset meadow --count 8 --sheet --out-dir grass/\n  \
    latentforge texture --material sand --interpolate 3 9 --steps 8 --size 512 --out-dir walk/\n  \
    latentforge texture --material paving --seed 5 --mix 12 --size 2048x1024 --format exr --out-dir out/\n\n\
  Variations of your own material (a PBR set in a folder, or one image):\n  \
    latentforge texture --exemplar Rock051_2K/ --count 4 --size 2048 --sheet --out-dir out/\n  \
    latentforge texture --exemplar photo.jpg --exemplar-tiles no --variation 0.8 --save-coords --out-dir out/\n  \
    latentforge texture --exemplar bricks_Color.png --map roughness=bricks_r.tif --map mask=m.png --out-dir out/\n  \
    latentforge texture remap out/Rock051_2K_s1_coords.png --map roughness=Rock051_2K_Roughness_v2.png --out-dir out/\n\n\
    Every output tiles seamlessly; its edges lie on its calmest column and row (a walk keeps its first\n\
    texture's), so used untiled no edge cuts through detail. The same seed and flags give the same\n\
    files on every run. Files are named <material>_s<seed>.png (+ _height, _normal, _roughness with\n\
    --pbr: from the material network; `--pbr heuristic` for the brightness-based maps); existing files\n\
    are kept unless --force. Materials: `latentforge models` lists the texture\n\
    model; unknown names are listed.";

#[derive(Args)]
pub struct TextureArgs {
    #[command(subcommand)]
    action: Option<TextureAction>,
    /// Material class (grass, rock, sand, soil, snow, paving).
    #[arg(long, conflicts_with = "exemplar")]
    material: Option<String>,
    #[command(flatten)]
    exemplar: exemplar::ExemplarArgs,
    /// Seed of the first texture; the others take the next seeds.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many textures.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    count: u32,
    /// Size in pixels: N (square) or WxH, 16 to 8192 per side (default: the preset's, else 1024;
    /// with --exemplar, the exemplar's size).
    #[arg(long, value_parser = parse_size)]
    size: Option<(usize, usize)>,
    /// 0..1: 0 = the material's average look, 1 = as varied as the training data (default 0.8).
    #[arg(long)]
    truncation: Option<f32>,
    /// A latent walk from one seed to another, instead of --seed/--count.
    #[arg(long, num_args = 2, value_names = ["SEED_A", "SEED_B"])]
    interpolate: Option<Vec<u64>>,
    /// Steps of the walk (both ends included).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(2..=1000))]
    steps: u32,
    /// Style mixing: coarse structure from --seed, fine detail from this seed.
    #[arg(long, value_name = "SEED")]
    mix: Option<u64>,
    /// Also write height, normal and roughness maps (seamless like the albedo): from the trained
    /// material network (`--pbr`), or from the albedo's brightness (`--pbr heuristic`, the old
    /// maps). With --exemplar: the maps your set lacks, made from each variation's colour.
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "network", value_name = "METHOD")]
    pbr: Option<PbrArg>,
    /// Green channel of the normal map: opengl (Y up: Blender, Unity) or directx (Y down: Unreal).
    #[arg(long, value_enum, default_value_t = ConventionArg::Opengl)]
    normal_convention: ConventionArg,
    /// Slope scale of the normal map (default: the preset's, else 1).
    #[arg(long)]
    normal_strength: Option<f32>,
    /// Upscale every map written (colour, height, normal, roughness; with --exemplar, every map of
    /// the set) by 2 or 4 with the trained upscaler, keeping it tileable.
    #[arg(long, value_name = "2|4", value_parser = crate::cmd::upscale::parse_scale)]
    upscale: Option<usize>,
    /// Also write a contact sheet of the albedo maps (sheet.png).
    #[arg(long)]
    sheet: bool,
    /// File format (default png; with --exemplar, each map's own format: PNG, TIFF or EXR).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Bits per channel of PNG files (default 8; with --exemplar, each map's own).
    #[arg(long, value_parser = parse_bits)]
    bits: Option<u8>,
    /// A texture preset (presets/textures/*.toml) or a preset file; flags override it.
    #[arg(long, value_name = "NAME|FILE")]
    preset: Option<String>,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Replace existing files.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    slice: SliceArgs,
    /// One JSON object per texture on stdout instead of text; the first line is the plan.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ConventionArg {
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

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum PbrArg {
    /// The material network, trained on artists' maps (models/material).
    Network,
    /// Height from brightness, normals from its slopes, roughness from a brightness curve.
    Heuristic,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum FormatArg {
    Png,
    Exr,
    /// TIFF (with --exemplar).
    Tif,
}

#[derive(clap::Subcommand)]
enum TextureAction {
    /// Apply a saved coordinate map (--save-coords) to maps that arrive later: every output pixel
    /// takes the map's pixel the coordinate map names, so a new roughness pass or mask matches
    /// the variation it was saved with.
    #[command(after_help = remap::EXAMPLES)]
    Remap(remap::RemapArgs),
    /// Height, normal and roughness for colour maps you already have (a photo, a painted albedo),
    /// from the material network (or `--method heuristic`).
    #[command(after_help = maps::EXAMPLES)]
    Maps(maps::MapsArgs),
}

fn parse_bits(s: &str) -> Result<u8, String> {
    match s {
        "8" => Ok(8),
        "16" => Ok(16),
        _ => Err(format!("`{s}`: PNG files are 8 or 16 bits per channel")),
    }
}

fn parse_size(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("`{s}` is not a size: use N (square) or WxH, e.g. 1024 or 2048x1024");
    let (w, h) = match s.split_once(['x', 'X']) {
        Some((w, h)) => (w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?),
        None => {
            let n = s.parse().map_err(|_| bad())?;
            (n, n)
        }
    };
    let ok = |v: usize| (latentforge::texture::MIN_SIZE..=latentforge::texture::MAX_SIZE).contains(&v);
    if !ok(w) || !ok(h) {
        return Err(format!(
            "{w}x{h}: each side must be {}..{} pixels",
            latentforge::texture::MIN_SIZE,
            latentforge::texture::MAX_SIZE
        ));
    }
    Ok((w, h))
}

/// One file to write: its name stem and the style to synthesise.
struct Job {
    /// The seed, or the step of a latent walk: what --frames selects.
    number: u64,
    stem: String,
    style: Style,
}

/// The textures of this run: --frames keeps those whose number (seed or walk step) is in the
/// range, --chunk one slice.
fn select<J>(jobs: Vec<J>, number: impl Fn(&J) -> u64, args: &TextureArgs) -> Result<Vec<J>> {
    let mut jobs = jobs;
    if let Some(range) = args.slice.frames {
        jobs.retain(|j| range.contains(number(j)));
        if jobs.is_empty() {
            bail!(
                "--frames {}-{}: no texture of this command has its seed (or walk step) in that range",
                range.first,
                range.last
            );
        }
    }
    let chunk = args.slice.chunk()?;
    if args.sheet && chunk.count > 1 {
        bail!("--sheet with --chunk: every chunk would write its own sheet.png; make the sheet in a separate run");
    }
    let range = chunk.range(jobs.len());
    Ok(jobs.into_iter().skip(range.start).take(range.len()).collect())
}

pub fn run(g: &GlobalArgs, args: TextureArgs) -> Result<u8> {
    match args.action {
        Some(TextureAction::Remap(remap)) => return remap::run(g, remap),
        Some(TextureAction::Maps(maps)) => return maps::run(g, maps),
        None => {}
    }
    let out_dir = args.out_dir.clone().context("say where the textures go: --out-dir DIR")?;
    prepare_out_dir(&out_dir)?;
    if args.exemplar.exemplar.is_some() || !args.exemplar.maps.is_empty() {
        return exemplar::run(g, &args, &out_dir);
    }
    if args.format == Some(FormatArg::Tif) {
        bail!("--format tif is for --exemplar variations; generated textures are png or exr");
    }
    let store = ModelStore::locate(g.models.as_deref())?;
    let preset = match &args.preset {
        Some(name) if name.ends_with(".toml") || Path::new(name).is_file() => {
            Some(TexturePreset::load(Path::new(name))?)
        }
        Some(name) => Some(presets::find::<TexturePreset>(&crate::presets_dir(&store.dir, "textures"), name)?),
        None => None,
    };
    let Some(material) = args.material.clone().or(preset.as_ref().map(|p| p.material.clone())) else {
        bail!("say which material: --material NAME (grass, rock, sand, soil, snow, paving) or --preset NAME");
    };
    let truncation = args.truncation.or(preset.as_ref().map(|p| p.truncation)).unwrap_or(0.8);
    if !(0.0..=1.0).contains(&truncation) {
        bail!("--truncation {truncation} is outside 0..1");
    }
    let (width, height) = args.size.or(preset.as_ref().map(|p| (p.size, p.size))).unwrap_or((1024, 1024));
    let strength = args.normal_strength.or(preset.as_ref().map(|p| p.normal_strength)).unwrap_or(1.0);
    if !(strength.is_finite() && strength > 0.0) {
        bail!("--normal-strength {strength} must be above 0");
    }
    let pbr_method = args.pbr.or(preset.as_ref().filter(|p| p.pbr).map(|_| PbrArg::Network));

    let runtime = crate::runtime(g)?;
    let model = TextureModel::load(&runtime, &store)?;
    let maker = pbr_method.map(|m| MapMaker::load(m, &runtime, &store)).transpose()?;
    let upscale = MapUpscale::load(args.upscale, (width, height), g)?;
    let class = model.class(&material)?;
    let request = TextureRequest { class, width, height, truncation };
    request.check()?;
    let (rows, cols) = request.grid(&model);
    let material = model.spec().classes[class].clone();
    // A walk's first texture: every step of a walk keeps its edges, so the frames do not jump.
    // Any other texture's edges lie on its own calmest lines.
    let mut walk_start: Option<Style> = None;
    let jobs: Vec<Job> = match &args.interpolate {
        Some(ends) => {
            let (a, b) = (Style::seeded(&model, ends[0], rows, cols), Style::seeded(&model, ends[1], rows, cols));
            let jobs = (0..args.steps)
                .map(|i| Job {
                    number: i as u64,
                    stem: format!("{material}_walk_s{}_s{}_{i:02}", ends[0], ends[1]),
                    style: a.towards(&b, i as f32 / (args.steps - 1) as f32),
                })
                .collect();
            walk_start = Some(a);
            jobs
        }
        None => (0..args.count as u64)
            .map(|k| {
                let seed = args.seed + k;
                let style = Style::seeded(&model, seed, rows, cols);
                match args.mix {
                    Some(m) => Job {
                        number: seed,
                        stem: format!("{material}_s{seed}_mix{m}"),
                        style: style.mixed(&Style::seeded(&model, m, rows, cols)),
                    },
                    None => Job { number: seed, stem: format!("{material}_s{seed}"), style },
                }
            })
            .collect(),
    };

    let ext = match args.format {
        Some(FormatArg::Exr) => "exr",
        _ => "png",
    };
    let convention = NormalConvention::from(args.normal_convention);
    let maps = if maker.is_some() { &["", "_height", "_normal", "_roughness"][..] } else { &[""][..] };
    let files = |job: &Job| maps.iter().map(|m| out_dir.join(format!("{}{m}.{ext}", job.stem))).collect::<Vec<_>>();
    let jobs = select(jobs, |j| j.number, &args)?;
    if args.json {
        let stems: Vec<&str> = jobs.iter().map(|j| j.stem.as_str()).collect();
        println!("{}", serde_json::json!({"plan": stems}));
    }
    let jobs =
        skip_done(jobs, |j| &j.stem, files, |f| frame::read_frame(f, &DecodeLimits::default()).is_ok(), &args, g)?;
    let bar = progress(g, jobs.len(), "textures");
    let sixteen = args.bits == Some(16);
    let mut sheet: Vec<Texture> = Vec::new();
    let mut walk_origin: Option<(usize, usize)> = None;
    for job in &jobs {
        let mut albedo = synth::synthesize(&model, &job.style, &request)?;
        let origin = match (&walk_start, walk_origin) {
            (None, _) => albedo.calm_origin(),
            (Some(_), Some(origin)) => origin,
            // The walk's first step is this texture, or (--frames, --chunk, --skip-existing left it
            // to another run) is synthesised once to find where its edges went.
            (Some(start), None) => *walk_origin.insert(if job.number == 0 {
                albedo.calm_origin()
            } else {
                synth::synthesize(&model, start, &request)?.calm_origin()
            }),
        };
        albedo.roll(origin);
        let path = out_dir.join(format!("{}.{ext}", job.stem));
        upscale.texture(&albedo, &MapKind::Color)?.write(&path, sixteen)?;
        let mut line = path.display().to_string();
        if let Some(maker) = &maker {
            let m = maker.maps(&albedo, strength, convention)?;
            let made = [
                ("_height", &m.height, MapKind::Height),
                ("_normal", &m.normal, MapKind::Normal(convention)),
                ("_roughness", &m.roughness, MapKind::Roughness),
            ];
            for (suffix, map, kind) in made {
                upscale.texture(map, &kind)?.write(&out_dir.join(format!("{}{suffix}.{ext}", job.stem)), sixteen)?;
            }
            line.push_str(" + height, normal, roughness");
        }
        if args.json {
            bar.suspend(|| println!("{}", serde_json::json!({"item": job.stem, "output": path})));
        } else if !g.quiet {
            let f = upscale.factor();
            bar.suspend(|| println!("{line} ({}x{}, {material})", width * f, height * f));
        }
        if args.sheet {
            sheet.push(albedo.resized(256, 256));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if args.sheet {
        let path = out_dir.join("sheet.png");
        crate::check_free(&path, args.force, None)?;
        latentforge::texture::contact_sheet(&sheet, 4, 256).write(&path, false)?;
        if !g.quiet {
            println!("{}", path.display());
        }
    }
    Ok(0)
}

/// What makes height, normal and roughness from a colour map (`--pbr`).
pub enum MapMaker {
    Network(MaterialModel),
    Heuristic,
}

impl MapMaker {
    pub fn load(method: PbrArg, runtime: &latentforge::Runtime, store: &ModelStore) -> Result<MapMaker> {
        Ok(match method {
            PbrArg::Network => MapMaker::Network(
                MaterialModel::load(runtime, store)
                    .context("--pbr: the material network did not load (`--pbr heuristic` needs no model)")?,
            ),
            PbrArg::Heuristic => MapMaker::Heuristic,
        })
    }

    pub fn maps(&self, colour: &Texture, strength: f32, convention: NormalConvention) -> Result<pbr::PbrMaps> {
        Ok(match self {
            MapMaker::Network(model) => model.maps(colour, strength, convention)?,
            MapMaker::Heuristic => pbr::derive(colour, strength, convention),
        })
    }
}

/// With --skip-existing, a job whose files all exist and decode is done: reported and dropped.
/// Every other job's files must be free to write (or --force).
fn skip_done<J>(
    jobs: Vec<J>,
    stem: impl Fn(&J) -> &str,
    files: impl Fn(&J) -> Vec<PathBuf>,
    decodes: impl Fn(&Path) -> bool,
    args: &TextureArgs,
    g: &GlobalArgs,
) -> Result<Vec<J>> {
    let (done, todo): (Vec<J>, Vec<J>) =
        jobs.into_iter().partition(|j| args.slice.skip_existing && files(j).iter().all(|f| decodes(f)));
    for job in &done {
        if args.json {
            println!("{}", serde_json::json!({"item": stem(job), "skipped": true}));
        } else if !g.quiet {
            println!("{}: files exist and decode, skipped", stem(job));
        }
    }
    for job in &todo {
        for f in files(job) {
            crate::check_free(&f, args.force, None)?;
        }
    }
    Ok(todo)
}

/// Creates the output folder and checks it takes files before any work starts.
fn prepare_out_dir(out_dir: &Path) -> Result<()> {
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("{}: cannot create the output folder", out_dir.display()))?;
    let probe = out_dir.join(".latentforge-write-test");
    std::fs::write(&probe, b"").with_context(|| format!("{}: the output folder is not writable", out_dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// A progress bar for `n` items, hidden when quiet or for one item.
pub fn progress(g: &GlobalArgs, n: usize, what: &str) -> ProgressBar {
    if g.quiet || n < 2 {
        return ProgressBar::hidden();
    }
    ProgressBar::new(n as u64).with_style(
        ProgressStyle::with_template(&format!("{{spinner}} {{bar:30}} {{pos}}/{{len}} {what} {{msg}}"))
            .expect("static template"),
    )
}
