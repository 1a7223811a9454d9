//! `latentforge watch`: a service that denoises render frames as they land in watched folders,
//! with a journal so nothing is missed or done twice; `watch status DIR` reads that journal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use latentforge::denoise::temporal::{self, TemporalParams};
use latentforge::denoise::{DenoiseOptions, Denoiser, DEFAULT_MAX_MEMORY};
use latentforge::infer::ModelStore;
use latentforge::io::frame::Encoding;
use latentforge::presets::denoise::Range;
use latentforge::presets::{self, DenoisePreset, Preset};
use latentforge::watch::{self, Event, Journal, State, WatchOptions, WatchOutput, JOURNAL_FILE};

use crate::args::LimitArgs;
use crate::cmd::denoise::QualityArg;
use crate::{GlobalArgs, EXIT_PARTIAL};

pub const EXAMPLES: &str = "Examples:\n  \
    latentforge watch renders/shot010 --out-dir renders/shot010_dn\n  \
    latentforge watch /farm/out --recursive --suffix _dn --preset generic --json\n  \
    latentforge watch renders/shot010 --out-dir clean/ --once          # what is there now, then exit\n  \
    latentforge watch status clean/                                    # what the journal holds\n\n\
    A frame is taken once it has kept its size for the preset's settle time and decodes; temp files,\n\
    zero-byte placeholders and our own outputs are left alone. Outputs are written atomically. The\n\
    journal (.latentforge-watch.db in the output folder, or in the first watched folder with --suffix)\n\
    makes a restart skip finished frames and redo changed ones. Ctrl-C (or SIGTERM) finishes the frames\n\
    in progress, then stops; exit status 0. With --once the exit status is 1 if any frame failed.";

#[derive(Args)]
pub struct WatchArgs {
    #[command(subcommand)]
    command: Option<WatchCommand>,
    /// Folders to watch.
    #[arg(required = true, value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Write outputs into this folder, mirroring the watched tree.
    #[arg(long, value_name = "DIR", conflicts_with = "suffix")]
    out_dir: Option<PathBuf>,
    /// Write outputs beside their inputs as <stem><SUFFIX>.<ext> (default: the preset's, `_dn`).
    #[arg(long, value_name = "SUFFIX")]
    suffix: Option<String>,
    /// Preset name (presets/denoise/*.toml) or a preset file; flags override it.
    #[arg(long, value_name = "NAME|FILE", default_value = "generic")]
    preset: String,
    /// Watch subfolders too.
    #[arg(long)]
    recursive: bool,
    /// Process the frames there now (waiting for unfinished ones), then exit.
    #[arg(long)]
    once: bool,
    /// Scan every MS milliseconds instead of using file events (network shares). Without it,
    /// watch switches to scanning by itself when events do not arrive.
    #[arg(long, value_name = "MS")]
    poll: Option<u64>,
    /// One JSON object per event on stdout, for pipeline tools.
    #[arg(long)]
    json: bool,
    /// A file must keep its size and time this long before it is taken (default: the preset's).
    #[arg(long, value_name = "MS")]
    settle: Option<u64>,
    /// How long a complete frame waits for its side-file passes (default: the preset's).
    #[arg(long, value_name = "SECONDS")]
    passes_timeout: Option<f64>,
    /// Tries per frame before it is recorded as failed.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=100))]
    attempts: u32,
    /// First retry delay in ms; each further one doubles it.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    backoff: u64,
    /// Try again the frames the journal records as failed.
    #[arg(long)]
    retry_failed: bool,
    #[command(flatten)]
    limits: LimitArgs,
    /// Forget the journal and denoise every frame again (existing outputs are replaced).
    #[arg(long, conflicts_with = "retry_failed")]
    reset: bool,
    /// Ignore albedo/normal passes.
    #[arg(long)]
    no_aux: bool,
    /// Speed against quality: fast runs OIDN's small networks, balanced and high its default ones.
    #[arg(long, value_enum, default_value_t = QualityArg::High)]
    quality: QualityArg,
    /// Treat colour as linear HDR or display-referred LDR (default: the preset's, else the format's).
    #[arg(long, value_enum)]
    range: Option<RangeArg>,
    /// Presets folder (default: presets/denoise beside the models folder).
    #[arg(long, value_name = "DIR")]
    presets: Option<PathBuf>,
    /// Temporal mode, as `denoise --temporal` (default: the preset's `temporal_window`): each frame
    /// with the frames before it, moved by Blender's Vector pass. A frame that lands after later
    /// ones makes those within its window redo, so out-of-order frames come out as in one run.
    #[arg(long)]
    temporal: bool,
    /// Frames each temporal output depends on (default: the preset's, else 8); implies --temporal.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..=64))]
    window: Option<u64>,
}

#[derive(Subcommand)]
enum WatchCommand {
    /// Print what a watch journal holds: done, failed (with reasons) and pending frames.
    Status {
        /// The output folder (or, with --suffix, the first watched folder).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RangeArg {
    Hdr,
    Ldr,
}

pub fn run(g: &GlobalArgs, args: WatchArgs) -> Result<u8> {
    if let Some(WatchCommand::Status { dir }) = &args.command {
        return status(dir);
    }
    let store = ModelStore::locate(g.models.as_deref())?;
    let preset = load_preset(&args, &store.dir)?;
    let opts = options(&args, &preset)?;
    let denoiser = Denoiser::new(crate::runtime(g)?, store);
    denoiser.preload(&opts.denoise)?;

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second Ctrl-C stops at once (exit 130) instead of finishing the frames in progress.
        signal_hook::flag::register_conditional_shutdown(signal, 130, stop.clone())?;
        signal_hook::flag::register(signal, stop.clone())?;
    }
    let mut show = Reporter::new(g.quiet, args.json);
    let summary = watch::run(&opts, denoiser, &stop, &mut |e| show.event(e))?;
    show.finish();
    Ok(if opts.once && summary.failed > 0 { EXIT_PARTIAL } else { 0 })
}

fn load_preset(args: &WatchArgs, models_dir: &Path) -> Result<DenoisePreset> {
    let as_file = Path::new(&args.preset);
    if args.preset.ends_with(".toml") || as_file.is_file() {
        return Ok(DenoisePreset::load(as_file)?);
    }
    let dir = args.presets.clone().unwrap_or_else(|| crate::presets_dir(models_dir, "denoise"));
    Ok(presets::find::<DenoisePreset>(&dir, &args.preset)?)
}

/// The preset's values with the flags laid over them.
fn options(args: &WatchArgs, preset: &DenoisePreset) -> Result<WatchOptions> {
    if let Some(s) = &args.suffix {
        if s.is_empty() || s.contains('/') {
            bail!("--suffix {s:?} must be a non-empty file-name suffix such as _dn");
        }
    }
    let passes_timeout = args.passes_timeout.unwrap_or(preset.passes_timeout_s);
    if !(passes_timeout.is_finite() && passes_timeout >= 0.0) {
        bail!("--passes-timeout {passes_timeout} must be 0 or more seconds");
    }
    let output = match &args.out_dir {
        Some(dir) => WatchOutput::Dir(dir.clone()),
        None => WatchOutput::Suffix(args.suffix.clone().unwrap_or_else(|| preset.suffix.clone())),
    };
    let encoding = match (args.range, preset.range) {
        (Some(RangeArg::Hdr), _) | (None, Range::Hdr) => Some(Encoding::Linear),
        (Some(RangeArg::Ldr), _) | (None, Range::Ldr) => Some(Encoding::Srgb),
        (None, Range::Auto) => None,
    };
    Ok(WatchOptions {
        dirs: args.dirs.clone(),
        output,
        recursive: args.recursive,
        extensions: preset.extensions.iter().map(|e| e.to_ascii_lowercase()).collect(),
        settle: Duration::from_millis(args.settle.unwrap_or(preset.settle_ms)),
        passes_timeout: Duration::from_secs_f64(passes_timeout),
        missing_passes: preset.missing_passes,
        poll: args.poll.map(|ms| Duration::from_millis(ms.max(10))),
        once: args.once,
        attempts: args.attempts,
        backoff: Duration::from_millis(args.backoff),
        reset: args.reset,
        retry_failed: args.retry_failed,
        temporal: (args.temporal || args.window.is_some() || preset.temporal_window.is_some()).then(|| {
            TemporalParams {
                window: args.window.map(|k| k as usize).or(preset.temporal_window).unwrap_or(temporal::DEFAULT_WINDOW),
                ..Default::default()
            }
        }),
        denoise: DenoiseOptions {
            encoding,
            tile: None,
            max_memory: DEFAULT_MAX_MEMORY,
            use_aux: !args.no_aux,
            albedo_pattern: preset.albedo_pattern.clone(),
            normal_pattern: preset.normal_pattern.clone(),
            quality: args.quality.into(),
            model: None,
            limits: args.limits.limits(preset.max_pixels),
        },
    })
}

/// Shows events: a live status line on a terminal, log lines otherwise, or JSON lines.
struct Reporter {
    quiet: bool,
    json: bool,
    bar: Option<ProgressBar>,
}

impl Reporter {
    fn new(quiet: bool, json: bool) -> Self {
        let bar = (!quiet && !json && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner()
                .with_style(ProgressStyle::with_template("{spinner} {msg}").expect("static template"));
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Reporter { quiet, json, bar }
    }

    fn line(&self, text: &str, error: bool) {
        let print = || if error { eprintln!("{text}") } else { println!("{text}") };
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    fn event(&mut self, e: &Event) {
        if self.json {
            if !matches!(e, Event::Progress { .. }) {
                println!("{}", serde_json::to_string(e).expect("events serialise"));
            }
            return;
        }
        match e {
            Event::Started { dirs, journal, polling, known_done } => {
                let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
                let how = if *polling { "scanning" } else { "file events" };
                if !self.quiet {
                    self.line(
                        &format!(
                            "watching {} ({how}); journal {} ({known_done} done)",
                            dirs.join(", "),
                            journal.display()
                        ),
                        false,
                    );
                }
            }
            Event::Warning { message } => self.line(&format!("warning: {message}"), true),
            Event::Done { input, output, model, device, infer_ms, .. } if !self.quiet => self.line(
                &format!("{} -> {} ({model}, {device}, {infer_ms} ms)", input.display(), output.display()),
                false,
            ),
            Event::Retry { input, attempt, reason, retry_in_ms } if !self.quiet => self.line(
                &format!("retry: {} (try {attempt} failed: {reason}; again in {retry_in_ms} ms)", input.display()),
                true,
            ),
            Event::Failed { input, reason } => self.line(&format!("error: {} failed: {reason}", input.display()), true),
            Event::Vanished { input } if !self.quiet => {
                self.line(&format!("{} disappeared before it was denoised", input.display()), true)
            }
            Event::Progress { queued, running, done, failed, frames_per_s } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!(
                        "queued {queued}, running {running}, done {done}, failed {failed}, {frames_per_s:.2} frames/s"
                    ));
                }
            }
            Event::Stopped { summary } if !self.quiet => self.line(
                &format!(
                    "watch stopped: {} done, {} skipped, {} failed in {:.1} s",
                    summary.done, summary.skipped, summary.failed, summary.seconds
                ),
                false,
            ),
            _ => {}
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// `watch status DIR`: the journal's counts, failed frames with reasons, pending frames.
fn status(dir: &Path) -> Result<u8> {
    let path = dir.join(JOURNAL_FILE);
    if !path.is_file() {
        bail!("{}: no watch journal here ({JOURNAL_FILE}); pass the output folder of a watch run", dir.display());
    }
    let (journal, warning) = Journal::open(&path).with_context(|| format!("reading {}", path.display()))?;
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    let entries = journal.all()?;
    let count = |s: State| entries.iter().filter(|e| e.state == s).count();
    println!(
        "{}: {} done, {} failed, {} pending",
        path.display(),
        count(State::Done),
        count(State::Failed),
        count(State::Pending)
    );
    for e in entries.iter().filter(|e| e.state == State::Failed) {
        let reason = e.reason.as_deref().unwrap_or("unknown");
        let tries = if e.attempts == 1 { "1 try".to_string() } else { format!("{} tries", e.attempts) };
        println!("  failed  {} ({tries}): {reason}", e.input.display());
    }
    for e in entries.iter().filter(|e| e.state == State::Pending) {
        println!("  pending {}", e.input.display());
    }
    if count(State::Failed) > 0 {
        println!("run watch again with --retry-failed to try the failed frames again");
    }
    Ok(0)
}
