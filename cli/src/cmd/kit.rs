//! `latentforge kit`: a generated Latent Groove drum kit as samples any sampler plays.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use latentforge::drums::{self, DrumModel, KitKnobs};
use latentforge::infer::ModelStore;
use latentforge::presets::MAX_SEED;

use crate::GlobalArgs;

pub const EXAMPLES: &str = "Examples:\n  \
    latentforge kit --seed 7 --out-dir kits/\n  \
    latentforge kit --seed 7 --timbre 0.4 --out-dir kits/\n\n\
    Writes kits/kit_s7.sfz and kits/kit_s7/{kick,snare,closed_hat,open_hat,low_tom,mid_tom,high_tom,\n\
    crash,ride}.wav (24-bit, mono): the kit Latent Groove plays for that Kit seed and Kit timbre, mapped to\n\
    the General MIDI drum notes, velocity-sensitive. The same seed and timbre give the same bytes.";

#[derive(Args)]
pub struct KitArgs {
    /// Kit seed (the plugin's "Kit" knob).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=MAX_SEED as i64))]
    seed: u32,
    /// 0..1: morphs the kit along a path through the drum model's latent space ("Kit timbre").
    #[arg(long, default_value_t = 0.0)]
    timbre: f32,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
    /// Replace existing files.
    #[arg(long)]
    force: bool,
}

pub fn run(g: &GlobalArgs, args: KitArgs) -> Result<u8> {
    if !(0.0..=1.0).contains(&args.timbre) {
        bail!("--timbre {} is outside 0..1", args.timbre);
    }
    let name = if args.timbre == 0.0 {
        format!("kit_s{}", args.seed)
    } else {
        format!("kit_s{}_t{:03}", args.seed, (args.timbre * 1000.0).round() as u32)
    };
    for f in drums::kit_files(&args.out_dir, &name) {
        crate::output::check_free(&f, args.force, None)?;
    }
    let store = ModelStore::locate(g.models.as_deref())?;
    let runtime = crate::runtime(g)?;
    let model = DrumModel::load(&runtime, &store)?;
    let kit = model.kit(&KitKnobs { seed: args.seed as u64, timbre: args.timbre })?;
    let files = drums::write_kit(&kit, &args.out_dir, &name)
        .with_context(|| format!("writing the kit into {}", args.out_dir.display()))?;
    if !g.quiet {
        println!(
            "{} ({} one-shots at {} Hz in {})",
            files[0].display(),
            files.len() - 1,
            kit.sample_rate,
            args.out_dir.join(&name).display()
        );
    }
    Ok(0)
}
