//! `latentforge denoise`: path-traced renders, one file or a `####` sequence, with progress.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use latentforge::denoise::{DenoiseError, DenoiseOptions, Denoiser};
use latentforge::infer::ModelStore;
use latentforge::io::frame::Encoding;
use latentforge::io::sequence::{self, OutputNaming, ALBEDO_PATTERN, NORMAL_PATTERN, OUTPUT_SUFFIX};

use crate::{GlobalArgs, EXIT_PARTIAL, EXIT_SETUP};

pub const EXAMPLES: &str = "Examples:\n  \
    latentforge denoise frame_0001.exr -o clean_0001.exr\n  \
    latentforge denoise 'shots/beauty_####.exr' --out-dir clean/\n  \
    latentforge denoise render.png --albedo-pattern '{stem}.albedo.png' --normal-pattern '{stem}.normal.png'\n\n\
    Multilayer EXRs from Blender (\"Denoising Albedo\"/\"Denoising Normal\" passes) are read as they are, and\n\
    the output EXR keeps every other pass. Outputs are written atomically and never over an input.";

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
    let inputs = sequence::expand_inputs(&args.inputs)?;
    if args.output.is_some() && inputs.len() != 1 {
        bail!("-o names one output but {} inputs were given; use --out-dir DIR for many", inputs.len());
    }
    if let Some(t) = args.tile {
        if t < 32 {
            bail!("--tile {t} is too small; use at least 32 pixels");
        }
    }
    let naming = match (&args.output, &args.out_dir) {
        (Some(file), _) => OutputNaming::File(file.clone()),
        (None, Some(dir)) => OutputNaming::Dir(dir.clone()),
        (None, None) => OutputNaming::Beside { suffix: OUTPUT_SUFFIX.into() },
    };
    let extension = args.format.map(FormatArg::extension);
    let jobs: Vec<(PathBuf, PathBuf)> =
        inputs.iter().map(|i| (i.clone(), sequence::output_path(i, &naming, extension))).collect();
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
    let denoiser = Denoiser::new(crate::runtime(g)?, store);

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
                let tiles = if r.tiles == 1 { "1 tile".to_string() } else { format!("{} tiles", r.tiles) };
                let line = format!(
                    "{} -> {} ({}, {}, {tiles}, {} ms)",
                    r.input.display(),
                    r.output.display(),
                    r.model,
                    r.device,
                    r.millis
                );
                if !g.quiet {
                    bar.suspend(|| println!("{line}"));
                }
            }
            Err(e) => {
                failed += 1;
                bar.suspend(|| eprintln!("error: {e}"));
                // A missing runtime or model fails every frame the same way: stop at once.
                if matches!(e, DenoiseError::Model(_)) {
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
