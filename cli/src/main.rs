//! `latentforge`: a thin command line over the engine crate. One file per subcommand in `cmd/`
//! (texture's actions in `cmd/texture/`); shared flag groups in [`args`], output-folder helpers in
//! [`output`], last release's spellings in [`legacy`]; this file holds the global flags, logging,
//! the runtime and the exit codes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};
use latentforge::infer::LIBRARY_FILE;
use latentforge::{Device, InvalidValue, Runtime, RuntimeOptions};

mod args;
mod events;
mod legacy;
mod output;

mod cmd {
    pub mod denoise;
    pub mod farm;
    pub mod groove;
    pub mod kit;
    pub mod models;
    pub mod texture;
    pub mod timings;
    pub mod upscale;
    pub mod watch;
}

const ABOUT: &str = "Generative tools for 3D and music pipelines, run with ONNX Runtime.";

fn long_about() -> String {
    format!(
        "{ABOUT}\n\nFrom a release, ONNX Runtime and the models are found beside this program (lib/, models/).\n\
         From a source checkout, run `cargo xtask setup` there first (or `cargo xtask setup --gpu`) to fetch\n\
         ONNX Runtime, or point LATENTFORGE_ORT at {LIBRARY_FILE}. `latentforge --version` says what was found."
    )
}

/// Exit codes: 0 all done, 1 some inputs failed (the others were still written),
/// 2 bad command line (a flag misspelt, out of range or not fitting the others),
/// 3 set-up problem (ONNX Runtime, a model or an input missing or broken; an output in the way),
/// 143 stopped by SIGTERM, 130 by Ctrl-C (outputs finished before are kept, the one being
/// written is removed; `watch` finishes its frames in flight first).
const EXIT_PARTIAL: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_SETUP: u8 = 3;

#[derive(Parser)]
#[command(name = "latentforge", about = ABOUT, long_about = long_about(), disable_version_flag = true)]
#[command(arg_required_else_help = true)]
struct Cli {
    /// Print the version, the ONNX Runtime loaded (and from where) and the models folder; exits 3
    /// when ONNX Runtime or the models cannot be found.
    #[arg(long, short = 'V')]
    version: bool,
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Option<Command>,
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
    #[command(after_help = cmd::denoise::EXAMPLES)]
    Denoise(cmd::denoise::DenoiseArgs),
    /// Generate drum grooves as MIDI files plus WAV renders with a generated drum kit.
    #[command(after_help = cmd::groove::EXAMPLES)]
    Groove(cmd::groove::GrooveArgs),
    /// Write a generated drum kit as WAV one-shots plus an SFZ file mapping them to GM drum notes.
    #[command(after_help = cmd::kit::EXAMPLES)]
    Kit(cmd::kit::KitArgs),
    /// Watch render output folders and denoise every frame as it lands (a service; `--once` for a batch).
    #[command(after_help = cmd::watch::EXAMPLES, args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Watch(cmd::watch::WatchArgs),
    /// Seamlessly tiling textures: a trained generator's materials, or variations of your own PBR set.
    #[command(after_help = cmd::texture::EXAMPLES)]
    Texture(cmd::texture::TextureArgs),
    /// Upscale texture maps 2x or 4x with the trained upscaler, keeping them tileable.
    #[command(after_help = cmd::upscale::EXAMPLES)]
    Upscale(cmd::upscale::UpscaleArgs),
    /// Spread a denoise or texture job over a render farm (Slurm job arrays) and follow it.
    #[command(after_help = cmd::farm::EXAMPLES)]
    Farm(cmd::farm::FarmArgs),
    /// List the bundled models and check each file against its manifest.
    Models,
}

/// When the process started (`denoise --timings` reports the set-up before the first frame).
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

fn main() -> ExitCode {
    STARTED.get_or_init(std::time::Instant::now);
    let (words, note) = legacy::rewrite(std::env::args_os().collect());
    let cli = Cli::parse_from(words);
    if let Some(note) = note.filter(|_| !cli.global.quiet) {
        eprintln!("{note}");
    }
    init_logging(&cli.global);
    let Some(command) = cli.command.filter(|_| !cli.version) else {
        return ExitCode::from(print_version(&cli.global));
    };
    if !matches!(command, Command::Watch(_)) {
        stop_cleanly_on_signals();
    }
    let done = match command {
        Command::Models => cmd::models::run(&cli.global),
        Command::Denoise(args) => cmd::denoise::run(&cli.global, args),
        Command::Groove(args) => cmd::groove::run(&cli.global, args),
        Command::Kit(args) => cmd::kit::run(&cli.global, args),
        Command::Watch(args) => cmd::watch::run(&cli.global, args),
        Command::Texture(args) => cmd::texture::run(&cli.global, args),
        Command::Upscale(args) => cmd::upscale::run(&cli.global, args),
        Command::Farm(args) => cmd::farm::run(&cli.global, args),
    };
    match done {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            match e.chain().find_map(|c| c.downcast_ref::<InvalidValue>()) {
                Some(v) => eprintln!("error: {} {}: use {}", flag(v.name), v.value, v.allowed),
                None => eprintln!("error: {}", latentforge::error_chain(e.as_ref())),
            }
            ExitCode::from(exit_code(&e))
        }
    }
}

/// Milliseconds since the process started.
fn since_start_ms() -> f64 {
    STARTED.get().map_or(0.0, |t| t.elapsed().as_secs_f64() * 1000.0)
}

/// SIGTERM (the add-on's Cancel, a farm's time limit) and Ctrl-C end the process at once, with
/// the output being written removed rather than left half-written: exit 128 + the signal.
fn stop_cleanly_on_signals() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGINT]) else { return };
    let _ = std::thread::Builder::new().name("signals".into()).spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let _held = latentforge::io::atomic::abandon_unfinished();
            std::process::exit(128 + signal);
        }
    });
}

/// `--version`: this build, and what it finds to run with (the add-on's *Check* reads it).
fn print_version(g: &GlobalArgs) -> u8 {
    println!("latentforge {}", env!("CARGO_PKG_VERSION"));
    let mut code = 0;
    match runtime(g) {
        Ok(rt) => {
            let version = rt.loaded_version().unwrap_or_else(|| "of unknown version".into());
            println!("ONNX Runtime {version} ({})", rt.library().display())
        }
        Err(e) => {
            println!("ONNX Runtime: not found: {}", latentforge::error_chain(e.as_ref()));
            code = EXIT_SETUP;
        }
    }
    match latentforge::infer::ModelStore::locate(g.models.as_deref()) {
        Ok(store) => println!("models: {}", store.dir.display()),
        Err(e) => {
            println!("models: not found: {}", latentforge::error_chain(&e));
            code = EXIT_SETUP;
        }
    }
    code
}

/// 2 for a command line that is wrong ([`args::UsageError`], a value a request refused), else 3.
fn exit_code(e: &anyhow::Error) -> u8 {
    let usage = e.chain().any(|c| c.is::<args::UsageError>() || c.is::<InvalidValue>());
    if usage {
        EXIT_USAGE
    } else {
        EXIT_SETUP
    }
}

/// The flag that sets a request's field: `normal_strength` is `--normal-strength`.
fn flag(field: &str) -> String {
    format!("--{}", field.replace('_', "-"))
}

fn init_logging(g: &GlobalArgs) {
    let level = if g.quiet { "error" } else { ["warn", "info", "debug", "trace"][g.verbose.min(3) as usize] };
    let filter = tracing_subscriber::EnvFilter::try_from_env("LATENTFORGE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{level},ort=warn")));
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr).init();
}

/// The factory presets of one capability: `$LATENTFORGE_PRESETS/<capability>`, else
/// `presets/<capability>` beside the models folder.
fn presets_dir(models_dir: &Path, capability: &str) -> PathBuf {
    let root = std::env::var_os("LATENTFORGE_PRESETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| models_dir.parent().unwrap_or(Path::new(".")).join("presets"));
    root.join(capability)
}

/// The process's ONNX Runtime, made on first use: ORT allows one environment per process, and
/// one command may load several models (texture --pbr --upscale).
fn runtime(g: &GlobalArgs) -> Result<Arc<Runtime>> {
    static RUNTIME: std::sync::OnceLock<Arc<Runtime>> = std::sync::OnceLock::new();
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt.clone());
    }
    let device = match g.device {
        DeviceArg::Auto => Device::Auto,
        DeviceArg::Cpu => Device::Cpu,
        DeviceArg::Cuda => Device::Cuda,
    };
    let rt = Runtime::new(RuntimeOptions { library: g.ort_lib.clone(), device, intra_threads: g.threads })?;
    Ok(RUNTIME.get_or_init(|| Arc::new(rt)).clone())
}
