//! `latentforge`: a thin command line over the engine crate.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use latentforge::denoise::{DenoiseOptions, Denoiser};
use latentforge::frame::{Encoding, FileFormat};
use latentforge::models::ModelStore;
use latentforge::{Device, Runtime, RuntimeOptions};

mod groove;

/// Exit codes: 0 all done, 1 some inputs failed (the others were still written),
/// 2 bad command line, 3 set-up problem (ONNX Runtime or a model missing or broken).
const EXIT_PARTIAL: u8 = 1;
const EXIT_SETUP: u8 = 3;

#[derive(Parser)]
#[command(name = "latentforge", version, about = "Generative tools for 3D and music pipelines, run with ONNX Runtime.",
    long_about = "Generative tools for 3D and music pipelines, run with ONNX Runtime.\n\n\
    First time on this machine? Run `cargo xtask setup` in the repository (or `cargo xtask setup --gpu`)\n\
    to fetch ONNX Runtime, or point LATENTFORGE_ORT at libonnxruntime.so.1.31.1.")]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct GlobalArgs {
    /// Where inference runs. `cuda` falls back to the CPU with a warning naming the reason.
    #[arg(long, global = true, value_enum, default_value_t = DeviceArg::Auto)]
    device: DeviceArg,
    /// ONNX Runtime library (file or folder); default: $LATENTFORGE_ORT, the set-up folder, beside the binary.
    #[arg(long, global = true, value_name = "PATH")]
    ort_lib: Option<PathBuf>,
    /// Models folder; default: $LATENTFORGE_MODELS, the repository's models/, models/ beside the binary.
    #[arg(long, global = true, value_name = "DIR")]
    models: Option<PathBuf>,
    /// Inference threads (default: all cores).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    /// Only print errors.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// More logging (repeat for more).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Clone, Copy, ValueEnum)]
enum DeviceArg {
    Auto,
    Cpu,
    Cuda,
}

#[derive(Subcommand)]
enum Command {
    /// Denoise path-traced renders (EXR, PFM, HDR, PNG, TIFF), using albedo/normal passes when present.
    #[command(after_help = "Examples:\n  \
        latentforge denoise frame_0001.exr -o clean_0001.exr\n  \
        latentforge denoise 'shots/beauty_####.exr' --out-dir clean/\n  \
        latentforge denoise render.png --albedo-pattern '{stem}.albedo.png' --normal-pattern '{stem}.normal.png'\n\n\
        Multilayer EXRs from Blender (\"Denoising Albedo\"/\"Denoising Normal\" passes) are read as they are, and\n\
        the output EXR keeps every other pass. Outputs are written atomically and never over an input.")]
    Denoise(DenoiseArgs),
    /// Generate drum grooves as MIDI files plus WAV renders with a generated drum kit.
    #[command(after_help = "Examples:\n  \
        latentforge groove --seed 7 --count 4 --bars 4 --bpm 96 --out-dir grooves/\n  \
        latentforge groove --preset boom-bap --count 8 --out-dir grooves/\n  \
        latentforge groove --from my_beat.mid --spread 0.4 --count 6 --out-dir variations/\n\n\
        Files are named groove_s<seed>_<k>.mid/.wav (or <clip>_var<k> with --from); 2-bar patterns loop\n\
        to the requested length with small phrase changes. MIDI is General MIDI drums on channel 10.")]
    Groove(groove::GrooveArgs),
    /// List the bundled models and check each file against its manifest.
    Models,
}

#[derive(Args)]
struct DenoiseArgs {
    /// Input frames; `#` runs match frame numbers (`beauty_####.exr`).
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Output file (one input only). Its extension picks the format.
    #[arg(short, long, value_name = "FILE", conflicts_with = "out_dir")]
    output: Option<PathBuf>,
    /// Output folder for many inputs; files keep their names.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Treat colour as linear HDR or display-referred LDR (default: from the file format).
    #[arg(long, value_enum)]
    range: Option<RangeArg>,
    /// Ignore albedo/normal passes and denoise from colour alone.
    #[arg(long)]
    no_aux: bool,
    /// Side file holding albedo when the input has none: {stem} {ext} {name} {frame} {dir}.
    #[arg(long, default_value = "{stem}_albedo.{ext}", value_name = "PATTERN")]
    albedo_pattern: String,
    /// Side file holding normals when the input has none.
    #[arg(long, default_value = "{stem}_normal.{ext}", value_name = "PATTERN")]
    normal_pattern: String,
    /// Tile size in pixels (default: derived from --max-memory).
    #[arg(long, value_name = "PX")]
    tile: Option<usize>,
    /// Memory budget for inference, in MiB; large frames are tiled to fit.
    #[arg(long, value_name = "MIB", default_value_t = 2048)]
    max_memory: u64,
    /// Write outputs in this format instead of the input's (with --out-dir).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
}

#[derive(Clone, Copy, ValueEnum)]
enum RangeArg {
    Hdr,
    Ldr,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Exr,
    Pfm,
    Hdr,
    Png,
    Tiff,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.global);
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_SETUP)
        }
    }
}

fn init_logging(g: &GlobalArgs) {
    let level = if g.quiet { "error" } else { ["warn", "info", "debug", "trace"][g.verbose.min(3) as usize] };
    let filter = tracing_subscriber::EnvFilter::try_from_env("LATENTFORGE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{level},ort=warn")));
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr).init();
}

fn runtime(g: &GlobalArgs) -> Result<Arc<Runtime>> {
    let device = match g.device {
        DeviceArg::Auto => Device::Auto,
        DeviceArg::Cpu => Device::Cpu,
        DeviceArg::Cuda => Device::Cuda,
    };
    let rt = Runtime::new(RuntimeOptions { library: g.ort_lib.clone(), device, intra_threads: g.threads })?;
    Ok(Arc::new(rt))
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Models => list_models(&cli.global),
        Command::Denoise(args) => denoise(&cli.global, args),
        Command::Groove(args) => groove::run(&cli.global, args),
    }
}

fn list_models(g: &GlobalArgs) -> Result<u8> {
    let store = ModelStore::locate(g.models.as_deref())?;
    println!("models in {}", store.dir.display());
    let mut bad = 0;
    for entry in store.list() {
        match entry.and_then(|e| e.verify_file().map(|_| e)) {
            Ok(e) => {
                let m = &e.manifest;
                let inputs: Vec<String> = m.inputs.iter().map(|i| format!("{}{:?}", i.name, i.shape)).collect();
                println!("  {:<20} {:<8} v{:<6} {}  in: {}", m.name, m.task, m.version, m.description, inputs.join(", "));
            }
            Err(e) => {
                bad += 1;
                println!("  BROKEN: {e}");
            }
        }
    }
    Ok(if bad > 0 { EXIT_SETUP } else { 0 })
}

fn denoise(g: &GlobalArgs, args: DenoiseArgs) -> Result<u8> {
    let inputs = expand_inputs(&args.inputs)?;
    if args.output.is_some() && inputs.len() != 1 {
        bail!("-o names one output but {} inputs were given; use --out-dir DIR for many", inputs.len());
    }
    if let Some(t) = args.tile {
        if t < 32 {
            bail!("--tile {t} is too small; use at least 32 pixels");
        }
    }
    let jobs: Vec<(PathBuf, PathBuf)> = inputs.iter().map(|i| (i.clone(), output_for(i, &args))).collect();
    let opts = DenoiseOptions {
        encoding: args.range.map(|r| match r {
            RangeArg::Hdr => Encoding::Linear,
            RangeArg::Ldr => Encoding::Srgb,
        }),
        tile: args.tile,
        max_memory: args.max_memory.saturating_mul(1 << 20),
        use_aux: !args.no_aux,
        albedo_pattern: Some(args.albedo_pattern.clone()),
        normal_pattern: Some(args.normal_pattern.clone()),
    };
    let store = ModelStore::locate(g.models.as_deref())?;
    let denoiser = Denoiser::new(runtime(g)?, store);

    let bar = if g.quiet || jobs.len() < 2 {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(jobs.len() as u64).with_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} frames, eta {eta} {msg}")
                .expect("static template"),
        )
    };
    let mut failed = 0;
    for (input, output) in &jobs {
        bar.set_message(input.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        match denoiser.denoise_file(input, output, &opts) {
            Ok(r) => {
                let line = format!("{} -> {} ({}, {}, {} tile{}, {} ms)", r.input.display(), r.output.display(), r.model, r.device,
                    r.tiles, if r.tiles == 1 { "" } else { "s" }, r.millis);
                if !g.quiet {
                    bar.suspend(|| println!("{line}"));
                }
            }
            Err(e) => {
                failed += 1;
                bar.suspend(|| eprintln!("error: {e}"));
                // A missing runtime or model fails every frame the same way: stop at once.
                if matches!(e, latentforge::denoise::DenoiseError::Model(_) | latentforge::denoise::DenoiseError::Runtime(_)) {
                    return Ok(EXIT_SETUP);
                }
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if failed > 0 {
        if jobs.len() > 1 {
            eprintln!("{failed} of {} frames failed; the others were written", jobs.len());
        }
        return Ok(EXIT_PARTIAL);
    }
    Ok(0)
}

/// Output path for one input: `-o`, else `--out-dir/<name>`, else `<stem>_denoised.<ext>` beside it.
fn output_for(input: &Path, args: &DenoiseArgs) -> PathBuf {
    if let Some(o) = &args.output {
        return o.clone();
    }
    let name = input.file_name().unwrap_or_default();
    let mut out = match &args.out_dir {
        Some(dir) => dir.join(name),
        None => {
            let stem = input.file_stem().unwrap_or_default().to_string_lossy();
            let ext = input.extension().unwrap_or_default().to_string_lossy();
            input.with_file_name(format!("{stem}_denoised.{ext}"))
        }
    };
    if let Some(f) = args.format {
        out.set_extension(match f {
            FormatArg::Exr => "exr",
            FormatArg::Pfm => "pfm",
            FormatArg::Hdr => "hdr",
            FormatArg::Png => "png",
            FormatArg::Tiff => "tif",
        });
    }
    out
}

/// Expands `#` frame patterns against the folder; other paths pass through (the shell expands globs).
fn expand_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        let name = input.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if !name.contains('#') {
            if FileFormat::from_path(input).is_none() {
                bail!("{}: unsupported file type; use .exr, .pfm, .hdr, .png, .tif or .tiff", input.display());
            }
            out.push(input.clone());
            continue;
        }
        let (prefix, rest) = name.split_at(name.find('#').unwrap_or(0));
        let digits = rest.len() - rest.trim_start_matches('#').len();
        let suffix = &rest[digits..];
        let dir = input.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut frames: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("{}: cannot list the folder of frame pattern {}", dir.display(), input.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                let n = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                n.len() == prefix.len() + digits + suffix.len()
                    && n.starts_with(prefix)
                    && n.ends_with(suffix)
                    && n[prefix.len()..prefix.len() + digits].bytes().all(|b| b.is_ascii_digit())
            })
            .collect();
        if frames.is_empty() {
            bail!("{}: no frames match this pattern", input.display());
        }
        frames.sort();
        out.extend(frames);
    }
    Ok(out)
}
