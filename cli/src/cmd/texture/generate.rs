//! `latentforge texture generate`: seeded, seamlessly tiling textures from the trained
//! generator's material classes, with style mixing, latent walks and (with `--pbr`) height,
//! normal and roughness maps.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use latentforge::infer::ModelStore;
use latentforge::io::frame;
use latentforge::io::limits::DecodeLimits;
use latentforge::presets::{self, Preset, TexturePreset};
use latentforge::texture::map::MapKind;
use latentforge::texture::{synth, Style, Texture, TextureModel, TextureRequest};

use super::{JobFiles, MapMaker};
use crate::args::{
    parse_size, usage, ImageFormatArgs, MethodArgs, NormalArgs, OutDirArgs, SeedArgs, SliceArgs, UpscaleFactorArgs,
};
use crate::cmd::upscale::MapUpscale;
use crate::output::{check_free, prepare_out_dir, progress};
use crate::GlobalArgs;

pub const EXAMPLES: &str = "Examples:\n  \
    latentforge texture generate --material rock --seed 7 --count 4 --size 1024 --pbr --out-dir out/\n  \
    latentforge texture generate --preset meadow --count 8 --sheet --out-dir grass/\n  \
    latentforge texture generate --material sand --interpolate 3 9 --steps 8 --size 512 --out-dir walk/\n  \
    latentforge texture generate --material paving --seed 5 --mix 12 --size 2048x1024 --format exr --out-dir out/\n\n\
    Every output tiles seamlessly; its edges lie on its calmest column and row (a walk keeps its first\n\
    texture's), so used untiled no edge cuts through detail. The same seed and flags give the same\n\
    files on every run. Files are named <material>_s<seed>.png (+ _height, _normal, _roughness with\n\
    --pbr: from the material network; `--method heuristic` for the brightness-based maps); existing\n\
    files are kept unless --force. Materials: `latentforge models` lists the texture model; unknown\n\
    names are listed.";

#[derive(Args)]
pub struct GenerateArgs {
    /// Material class (grass, rock, sand, soil, snow, paving).
    #[arg(long)]
    material: Option<String>,
    #[command(flatten)]
    seeds: SeedArgs,
    /// Size in pixels: N (square) or WxH, 16 to 8192 per side (default: the preset's, else 1024).
    #[arg(long, value_parser = parse_size)]
    size: Option<(usize, usize)>,
    /// 0 to 1: 0 = the material's average look, 1 = as varied as the training data (default 0.8).
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
    /// Also write height, normal and roughness maps, seamless like the albedo, made by --method.
    #[arg(long)]
    pbr: bool,
    #[command(flatten)]
    method: MethodArgs,
    #[command(flatten)]
    normals: NormalArgs,
    #[command(flatten)]
    upscale: UpscaleFactorArgs,
    /// Also write a contact sheet of the albedo maps (sheet.png).
    #[arg(long)]
    sheet: bool,
    #[command(flatten)]
    format: ImageFormatArgs,
    /// A texture preset (presets/textures/*.toml) or a preset file; flags override it.
    #[arg(long, value_name = "NAME|FILE")]
    preset: Option<String>,
    #[command(flatten)]
    out: OutDirArgs,
    #[command(flatten)]
    slice: SliceArgs,
    /// One JSON object per texture on stdout instead of text; the first line is the plan.
    #[arg(long)]
    json: bool,
}

/// One file to write: its name stem and the style to synthesise.
struct Job {
    /// The seed, or the step of a latent walk: what --frames selects.
    number: u64,
    stem: String,
    style: Style,
}

/// What a run makes, read from the flags and the preset and checked before any model loads.
struct Plan {
    material: String,
    request_size: (usize, usize),
    truncation: f32,
    normals: latentforge::texture::NormalSettings,
    pbr: bool,
}

fn plan(args: &GenerateArgs, store: &ModelStore) -> Result<Plan> {
    let preset = match &args.preset {
        Some(name) if name.ends_with(".toml") || Path::new(name).is_file() => {
            Some(TexturePreset::load(Path::new(name))?)
        }
        Some(name) => Some(presets::find::<TexturePreset>(&crate::presets_dir(&store.dir, "textures"), name)?),
        None => None,
    };
    let Some(material) = args.material.clone().or(preset.as_ref().map(|p| p.material.clone())) else {
        return usage("say which material: --material NAME (grass, rock, sand, soil, snow, paving) or --preset NAME");
    };
    Ok(Plan {
        material,
        request_size: args.size.or(preset.as_ref().map(|p| (p.size, p.size))).unwrap_or((1024, 1024)),
        truncation: args.truncation.or(preset.as_ref().map(|p| p.truncation)).unwrap_or(0.8),
        normals: args.normals.settings(preset.as_ref().map_or(1.0, |p| p.normal_strength))?,
        pbr: args.pbr || preset.as_ref().is_some_and(|p| p.pbr),
    })
}

pub fn run(g: &GlobalArgs, args: GenerateArgs) -> Result<u8> {
    let out_dir = args.out.out_dir.clone();
    let store = ModelStore::locate(g.models.as_deref())?;
    let plan = plan(&args, &store)?;
    let (width, height) = plan.request_size;
    let runtime = crate::runtime(g)?;
    let model = TextureModel::load(&runtime, &store)?;
    let request = TextureRequest::new(model.class(&plan.material)?, width, height, plan.truncation)?;
    let upscale = MapUpscale::load(args.upscale.upscale, (width, height), g)?;
    let maker = plan.pbr.then(|| MapMaker::load(args.method.method, g)).transpose()?;
    prepare_out_dir(&out_dir)?;
    let (rows, cols) = request.grid(&model);
    let material = model.spec().classes[request.class()].clone();
    let (jobs, walk_start) = jobs(&args, &model, &material, (rows, cols));
    let ext = args.format.format.extension();
    let maps = if maker.is_some() { &["", "_height", "_normal", "_roughness"][..] } else { &[""][..] };
    let files = |job: &Job| maps.iter().map(|m| out_dir.join(format!("{}{m}.{ext}", job.stem))).collect::<Vec<_>>();
    let run =
        JobFiles { slice: &args.slice, force: args.out.force, sheet: args.sheet, json: args.json, quiet: g.quiet };
    let jobs = run.select(jobs, |j| j.number)?;
    if args.json {
        let stems: Vec<&str> = jobs.iter().map(|j| j.stem.as_str()).collect();
        println!("{}", serde_json::json!({"plan": stems}));
    }
    let jobs = run.skip_done(jobs, |j| &j.stem, files, |f| frame::read_frame(f, &DecodeLimits::default()).is_ok())?;
    let bar = progress(g.quiet, jobs.len(), "textures");
    let sixteen = args.format.bits == 16;
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
        let mut written = vec![(MapKind::Color, path.clone())];
        if let Some(maker) = &maker {
            let m = maker.maps(&albedo, plan.normals)?;
            let made = [
                ("_height", &m.height, MapKind::Height),
                ("_normal", &m.normal, MapKind::Normal(plan.normals.convention())),
                ("_roughness", &m.roughness, MapKind::Roughness),
            ];
            for (suffix, map, kind) in made {
                let file = out_dir.join(format!("{}{suffix}.{ext}", job.stem));
                upscale.texture(map, &kind)?.write(&file, sixteen)?;
                written.push((kind, file));
            }
        }
        report(g, &args, &bar, job, &written, (width * upscale.factor(), height * upscale.factor()), &material);
        if args.sheet {
            sheet.push(albedo.resized(256, 256));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if args.sheet {
        write_sheet(&sheet, &out_dir, args.out.force, g.quiet)?;
    }
    Ok(0)
}

/// The textures a run would make, before --frames/--chunk select: a walk's steps or the seeds
/// (each mixed with --mix); with the walk's first style.
fn jobs(
    args: &GenerateArgs,
    model: &TextureModel,
    material: &str,
    (rows, cols): (usize, usize),
) -> (Vec<Job>, Option<Style>) {
    if let Some(ends) = &args.interpolate {
        let (a, b) = (Style::seeded(model, ends[0], rows, cols), Style::seeded(model, ends[1], rows, cols));
        let jobs = (0..args.steps)
            .map(|i| Job {
                number: i as u64,
                stem: format!("{material}_walk_s{}_s{}_{i:02}", ends[0], ends[1]),
                style: a.towards(&b, i as f32 / (args.steps - 1) as f32),
            })
            .collect();
        return (jobs, Some(a));
    }
    let jobs = args
        .seeds
        .seeds()
        .map(|seed| {
            let style = Style::seeded(model, seed, rows, cols);
            match args.mix {
                Some(m) => Job {
                    number: seed,
                    stem: format!("{material}_s{seed}_mix{m}"),
                    style: style.mixed(&Style::seeded(model, m, rows, cols)),
                },
                None => Job { number: seed, stem: format!("{material}_s{seed}"), style },
            }
        })
        .collect();
    (jobs, None)
}

/// One texture's line: JSON with every file and its map kind, or the text line.
fn report(
    g: &GlobalArgs,
    args: &GenerateArgs,
    bar: &indicatif::ProgressBar,
    job: &Job,
    written: &[(MapKind, PathBuf)],
    (w, h): (usize, usize),
    material: &str,
) {
    if args.json {
        let files: Vec<_> =
            written.iter().map(|(kind, file)| serde_json::json!({"kind": kind.word(), "file": file})).collect();
        let line = serde_json::json!({"item": job.stem, "output": written[0].1, "files": files});
        bar.suspend(|| println!("{line}"));
    } else if !g.quiet {
        let maps = if written.len() > 1 { " + height, normal, roughness" } else { "" };
        bar.suspend(|| println!("{}{maps} ({w}x{h}, {material})", written[0].1.display()));
    }
}

fn write_sheet(sheet: &[Texture], out_dir: &Path, force: bool, quiet: bool) -> Result<()> {
    let path = out_dir.join("sheet.png");
    check_free(&path, force, None)?;
    latentforge::texture::contact_sheet(sheet, 4, 256).write(&path, false)?;
    if !quiet {
        println!("{}", path.display());
    }
    Ok(())
}
