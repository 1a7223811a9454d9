//! `latentforge denoise`: path-traced renders, one file or a `####` sequence, with progress.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use latentforge::denoise::batch::{BatchJob, Next};
use latentforge::denoise::metrics::{self, Scores};
use latentforge::denoise::temporal::{self, TemporalDenoiser, TemporalParams};
use latentforge::denoise::{self as engine, DenoiseError, DenoiseOptions, Denoiser, Quality};
use latentforge::infer::ModelStore;
use latentforge::io::frame::{self, Encoding};
use latentforge::io::sequence::{self, OutputNaming, ALBEDO_PATTERN, NORMAL_PATTERN, OUTPUT_SUFFIX};

use crate::args::{usage, LimitArgs, SliceArgs};
use crate::{GlobalArgs, EXIT_PARTIAL, EXIT_SETUP};

pub const EXAMPLES: &str = "Examples:\n  \
    latentforge denoise frame_0001.exr -o clean_0001.exr\n  \
    latentforge denoise 'shots/beauty_####.exr' --out-dir clean/\n  \
    latentforge denoise render.png --albedo-pattern '{stem}.albedo.png' --normal-pattern '{stem}.normal.png'\n  \
    latentforge denoise noisy.exr -o clean.exr --reference ref_4096spp.exr   # prints PSNR/SSIM before and after\n  \
    latentforge denoise 'shots/beauty_####.exr' --out-dir clean/ --temporal  # animation without flicker\n\n\
    The networks are Intel Open Image Denoise's (Apache-2.0), run through ONNX Runtime; --quality picks\n\
    OIDN's small networks (fast) or its default ones (balanced, high).\n\
    Multilayer EXRs from Blender (\"Denoising Albedo\"/\"Denoising Normal\" passes) are read as they are, and\n\
    the output EXR keeps every other pass. Outputs are written atomically and never over an input.\n\n\
    --temporal carries each frame's history through the frames before it, reprojected by Blender's Vector\n\
    pass (View Layer Properties > Passes > Data > Vector; it needs Motion Blur off). Each output depends on\n\
    its own --window of frames only, so farm chunks and frames denoised out of order give the same bytes.\n\
    A frame without a usable Vector pass, after a missing frame or a size change is denoised with the\n\
    frames it can use (at worst alone), with a warning.";

#[derive(Args)]
pub struct DenoiseArgs {
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
    #[arg(long, default_value = ALBEDO_PATTERN, value_name = "PATTERN")]
    albedo_pattern: String,
    /// Side file holding normals when the input has none.
    #[arg(long, default_value = NORMAL_PATTERN, value_name = "PATTERN")]
    normal_pattern: String,
    /// Tile size in pixels (default: derived from --max-memory).
    #[arg(long, value_name = "PX")]
    tile: Option<usize>,
    /// Memory budget for inference, in MiB; large frames are tiled to fit.
    #[arg(long, value_name = "MIB", default_value_t = 2048)]
    max_memory: u64,
    #[command(flatten)]
    limits: LimitArgs,
    /// Write outputs in this format instead of the input's (with --out-dir).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Speed against quality: fast runs OIDN's small networks, balanced and high its default ones.
    #[arg(long, value_enum, default_value_t = QualityArg::High)]
    quality: QualityArg,
    /// Run this bundled network instead of the one --quality picks (see `latentforge models`).
    #[arg(long, value_name = "NAME")]
    model: Option<String>,
    /// Compare input and output with this reference and print PSNR and SSIM; `#` runs take each
    /// input's frame number (`ref/beauty_####.exr`).
    #[arg(long, value_name = "FILE")]
    reference: Option<PathBuf>,
    /// One JSON object per frame on stdout (with --reference: the scores) instead of text; the
    /// first line is the plan (`{"plan": [frames]}`).
    #[arg(long)]
    json: bool,
    /// Where the time goes, on stderr: each frame's stages (read, model, prepare, infer, finish,
    /// write) and, at the end, each stage's median over the frames.
    #[arg(long)]
    timings: bool,
    /// Denoise a sequence without flicker: blend each frame with the frames before it, moved by
    /// the Vector pass (Blender: Passes > Data > Vector, Motion Blur off).
    #[arg(long)]
    temporal: bool,
    /// Frames each temporal output depends on, itself included; more steadies more, and a farm
    /// chunk re-denoises window - 1 frames before its first.
    #[arg(long, value_name = "K", default_value_t = temporal::DEFAULT_WINDOW as u64, requires = "temporal",
          value_parser = clap::value_parser!(u64).range(1..=64))]
    window: u64,
    #[command(flatten)]
    slice: SliceArgs,
}

/// `--quality`, shared with `latentforge watch`.
#[derive(Clone, Copy, ValueEnum)]
pub enum QualityArg {
    Fast,
    Balanced,
    High,
}

impl From<QualityArg> for Quality {
    fn from(q: QualityArg) -> Self {
        match q {
            QualityArg::Fast => Quality::Fast,
            QualityArg::Balanced => Quality::Balanced,
            QualityArg::High => Quality::High,
        }
    }
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

impl FormatArg {
    fn extension(self) -> &'static str {
        match self {
            FormatArg::Exr => "exr",
            FormatArg::Pfm => "pfm",
            FormatArg::Hdr => "hdr",
            FormatArg::Png => "png",
            FormatArg::Tiff => "tif",
        }
    }
}

pub fn run(g: &GlobalArgs, args: DenoiseArgs) -> Result<u8> {
    let inputs = job_inputs(&args)?;
    if args.output.is_some() && inputs.len() != 1 {
        return usage(format!(
            "-o names one output but {} inputs were given; use --out-dir DIR for many",
            inputs.len()
        ));
    }
    let chunk = args.slice.chunk()?;
    let inputs = chunk.select(&inputs).to_vec();
    let opts = options(&args)?;
    let naming = match (&args.output, &args.out_dir) {
        (Some(file), _) => OutputNaming::File(file.clone()),
        (None, Some(dir)) => OutputNaming::Dir(dir.clone()),
        (None, None) => OutputNaming::Beside { suffix: OUTPUT_SUFFIX.into() },
    };
    let extension = args.format.map(FormatArg::extension);
    let jobs: Vec<(PathBuf, PathBuf)> =
        inputs.iter().map(|i| (i.clone(), sequence::output_path(i, &naming, extension))).collect();
    let references = match &args.reference {
        None => None,
        Some(pattern) => Some(reference_files(pattern, &inputs)?),
    };
    let store = ModelStore::locate(g.models.as_deref())?;
    let denoiser = Denoiser::new(crate::runtime(g)?, store);
    let params = TemporalParams { window: args.window as usize, ..Default::default() };
    let temporal = args.temporal.then(|| TemporalDenoiser::new(&denoiser, opts.clone(), params));

    let mut timings = args.timings.then(|| super::timings::Timings::new(crate::since_start_ms()));
    let bar = progress_bar(g, jobs.len());
    if args.json {
        println!("{}", serde_json::json!({"plan": inputs, "chunk": chunk.index, "of": chunk.count}));
    }
    // With --json, a `progress` event at least once a second while a frame is being denoised.
    let events = crate::events::Events::heartbeat(args.json, jobs.len());
    let (mut todo, mut todo_index) = (Vec::new(), Vec::new());
    for (k, (input, output)) in jobs.iter().enumerate() {
        if args.slice.skip_existing && frame::read_frame(output, &opts.limits).is_ok() {
            if args.json {
                bar.suspend(|| println!("{}", serde_json::json!({"item": input, "output": output, "skipped": true})));
            } else if !g.quiet {
                bar.suspend(|| println!("{} exists and decodes: skipped", output.display()));
            }
            events.finished(input.to_string_lossy());
            bar.inc(1);
        } else {
            todo.push(BatchJob { input: input.clone(), output: output.clone() });
            todo_index.push(k);
        }
    }
    let mut failed = 0;
    let mut setup_failed = false;
    // What each frame's result prints; false when the run must stop (the runtime or a model is
    // missing, and every frame would fail the same way).
    let mut report = |job: &BatchJob, result: Result<FrameLine>| -> bool {
        match result {
            Ok(line) => {
                if args.json {
                    bar.suspend(|| println!("{}", line.json()));
                } else if !g.quiet {
                    bar.suspend(|| println!("{}", line.text()));
                }
                if let Some(t) = timings.as_mut() {
                    let stages = t.add(line.report.times, line.report.millis as f64);
                    bar.suspend(|| eprintln!("{}", stages));
                }
            }
            Err(e) => {
                failed += 1;
                if args.json {
                    let error = serde_json::json!({"item": job.input, "input": job.input, "error": latentforge::error_chain(e.as_ref())});
                    bar.suspend(|| println!("{error}"));
                }
                bar.suspend(|| eprintln!("error: {}", latentforge::error_chain(e.as_ref())));
                setup_failed = matches!(e.downcast_ref::<DenoiseError>(), Some(DenoiseError::Model(_)));
            }
        }
        events.finished(job.input.to_string_lossy());
        bar.inc(1);
        !setup_failed
    };
    if temporal.is_none() && references.is_none() {
        // Reading the next frame and writing the last overlap this one's inference.
        if let Some(first) = todo.first() {
            events.working_on(first.input.to_string_lossy());
            bar.set_message(file_name(&first.input));
        }
        denoiser.denoise_batch(&todo, &opts, |k, result| {
            let line = result.map(|report| FrameLine { report, scores: None, frames_used: None }).map_err(Into::into);
            let go_on = report(&todo[k], line);
            if let Some(next) = todo.get(k + 1) {
                events.working_on(next.input.to_string_lossy());
                bar.set_message(file_name(&next.input));
            }
            if go_on {
                Next::Continue
            } else {
                Next::Stop
            }
        });
    } else {
        for (job, k) in todo.iter().zip(todo_index) {
            events.working_on(job.input.to_string_lossy());
            bar.set_message(file_name(&job.input));
            let reference = references.as_ref().map(|r| r[k].as_path());
            let method = match &temporal {
                Some(t) => Method::Temporal(t, temporal::window_of(&job.input, t.params().window)),
                None => Method::Single(&denoiser),
            };
            if !report(job, denoise_one(method, &job.input, &job.output, &opts, reference)) {
                break;
            }
        }
    }
    if setup_failed {
        return Ok(EXIT_SETUP);
    }
    drop(events);
    bar.finish_and_clear();
    if let Some(t) = timings {
        eprintln!("{}", t.table());
    }
    if failed > 0 {
        if jobs.len() > 1 {
            eprintln!("{failed} of {} frames failed; the others were written", jobs.len());
        }
        return Ok(EXIT_PARTIAL);
    }
    Ok(0)
}

/// The denoiser's options from the flags, checked once.
fn options(args: &DenoiseArgs) -> Result<DenoiseOptions> {
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
        quality: args.quality.into(),
        model: args.model.clone(),
        limits: args.limits.limits(None),
    };
    Ok(opts.checked()?)
}

fn progress_bar(g: &GlobalArgs, frames: usize) -> ProgressBar {
    if g.quiet || frames < 2 {
        return ProgressBar::hidden();
    }
    ProgressBar::new(frames as u64).with_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} frames, eta {eta} {msg}")
            .expect("static template"),
    )
}

/// The frames of the whole job: the inputs, `####` patterns expanded; with --frames, the frames
/// of that range (a pattern names them even before they exist, so every farm task computes the
/// same list; a missing one fails as that frame's error).
fn job_inputs(args: &DenoiseArgs) -> Result<Vec<PathBuf>> {
    let Some(range) = args.slice.frames else { return Ok(sequence::expand_inputs(&args.inputs)?) };
    let mut out = Vec::new();
    for input in &args.inputs {
        match sequence::frame_path(input, 0) {
            Some(_) => out.extend(
                (range.first..=range.last).step_by(range.step as usize).filter_map(|n| sequence::frame_path(input, n)),
            ),
            None => {
                let listed = sequence::expand_inputs(std::slice::from_ref(input))?;
                out.extend(listed.into_iter().filter(|p| sequence::frame_number(p).is_some_and(|n| range.contains(n))));
            }
        }
    }
    if out.is_empty() {
        bail!("--frames {}-{}: none of the inputs is in that range", range.first, range.last);
    }
    Ok(out)
}

/// The reference of every input: one file for a single input, or a `#` pattern per frame.
fn reference_files(pattern: &std::path::Path, inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let has_runs = pattern.file_name().is_some_and(|n| n.to_string_lossy().contains('#'));
    if !has_runs && inputs.len() > 1 {
        bail!(
            "--reference {} names one file but {} inputs were given; use a # pattern such as ref/beauty_####.exr",
            pattern.display(),
            inputs.len()
        );
    }
    inputs
        .iter()
        .map(|i| {
            sequence::frame_file(pattern, i).ok_or_else(|| {
                anyhow::anyhow!("{}: no frame number to fill --reference {} with", i.display(), pattern.display())
            })
        })
        .collect()
}

/// What one denoised frame reports.
struct FrameLine {
    report: engine::DenoiseReport,
    /// Input and output against the reference.
    scores: Option<(Scores, Scores)>,
    /// Temporal mode: the frames the output depends on.
    frames_used: Option<usize>,
}

impl FrameLine {
    fn text(&self) -> String {
        let r = &self.report;
        let mut tiles = if r.tiles == 1 { "1 tile".to_string() } else { format!("{} tiles", r.tiles) };
        if let Some(n) = self.frames_used {
            tiles += &format!(", {n} frame{}", if n == 1 { "" } else { "s" });
        }
        let mut line = format!(
            "{} -> {} ({}, {}, {tiles}, {} ms)",
            r.input.display(),
            r.output.display(),
            r.model,
            r.device,
            r.millis
        );
        if let Some((i, o)) = self.scores {
            line += &format!(
                "\n  vs reference: input PSNR {:.2} dB SSIM {:.4} -> output PSNR {:.2} dB SSIM {:.4}",
                i.psnr, i.ssim, o.psnr, o.ssim
            );
        }
        line
    }

    fn json(&self) -> serde_json::Value {
        let r = &self.report;
        let mut v = serde_json::json!({
            "item": r.input, "input": r.input, "output": r.output, "model": r.model, "device": r.device.to_string(),
            "tiles": r.tiles, "ms": r.millis,
        });
        if let Some(n) = self.frames_used {
            v["frames_used"] = n.into();
        }
        if let Some((i, o)) = self.scores {
            v["input_psnr"] = i.psnr.into();
            v["input_ssim"] = i.ssim.into();
            v["output_psnr"] = o.psnr.into();
            v["output_ssim"] = o.ssim.into();
        }
        v
    }
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// How a frame is denoised: on its own, or with the frames of its temporal window.
enum Method<'a> {
    Single(&'a Denoiser),
    Temporal(&'a TemporalDenoiser<'a>, Vec<Option<PathBuf>>),
}

/// Denoises one file; with a reference, scores the input and the written output against it.
fn denoise_one(
    method: Method,
    input: &std::path::Path,
    output: &std::path::Path,
    opts: &DenoiseOptions,
    reference: Option<&std::path::Path>,
) -> Result<FrameLine> {
    // The reference is read first: a wrong path fails before minutes of denoising.
    let read = |path: &std::path::Path| frame::read_frame(path, &opts.limits);
    let reference = reference.map(read).transpose()?;
    let (report, frames_used) = match method {
        Method::Single(denoiser) => (denoiser.denoise_file(input, output, opts)?, None),
        Method::Temporal(temporal, window) => {
            let done = temporal.denoise_file(&window, output)?;
            (done.report, Some(done.frames_used))
        }
    };
    let Some(reference) = reference else { return Ok(FrameLine { report, scores: None, frames_used }) };
    let (noisy, clean) = (read(input)?, read(output)?);
    if (reference.width, reference.height) != (noisy.width, noisy.height) {
        bail!(
            "{}: the reference is {}x{}, the frame {}x{}",
            input.display(),
            reference.width,
            reference.height,
            noisy.width,
            noisy.height
        );
    }
    if reference.encoding != noisy.encoding {
        bail!(
            "{}: the reference is {:?} and the frame {:?}; compare frames of one kind (EXR with EXR, PNG with PNG)",
            input.display(),
            reference.encoding,
            noisy.encoding
        );
    }
    let encoding = opts.encoding.unwrap_or(noisy.encoding);
    let score = |f: &frame::Frame| metrics::compare(&f.color, &reference.color, f.width, f.height, encoding);
    Ok(FrameLine { scores: Some((score(&noisy), score(&clean))), report, frames_used })
}
