//! `latentforge groove`: drum grooves as MIDI files and WAV renders, offline.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use latentforge::drums::{self, DrumModel};
use latentforge::groove::{self, GrooveModel, GrooveUse, Take, BPM_RANGE, PATTERN_BARS};
use latentforge::infer::ModelStore;
use latentforge::io::atomic::write_bytes_atomic;
use latentforge::presets::{self, GroovePreset, GrooveSettings, MAX_SEED};

use crate::GlobalArgs;

pub const EXAMPLES: &str = "Examples:\n  \
    latentforge groove --seed 7 --count 4 --bars 4 --bpm 96 --out-dir grooves/\n  \
    latentforge groove --preset boom-bap --count 8 --out-dir grooves/\n  \
    latentforge groove --from my_beat.mid --spread 0.4 --count 6 --out-dir variations/\n\n\
    Files are named groove_s<seed>_<k>.mid/.wav (or <clip>_var<k> with --from); 2-bar patterns loop\n\
    to the requested length with small phrase changes. MIDI is General MIDI drums on channel 10.";

#[derive(Args)]
pub struct GrooveArgs {
    /// Seed of the groove; the same seed gives the same grooves on every machine.
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=MAX_SEED as i64))]
    seed: Option<u32>,
    /// How many grooves (the seed's own groove, then its variations 1, 2, ...).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1000))]
    count: u32,
    /// Length of each groove in bars.
    #[arg(long, default_value = "4", value_parser = ["2", "4", "8"])]
    bars: String,
    /// Tempo of the MIDI file and the render (default: the preset's, else 120).
    #[arg(long, value_parser = parse_bpm)]
    bpm: Option<f64>,
    /// Output folder (created if missing). Files are never overwritten unless --force.
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
    /// Start from a factory preset (file stem or name in presets/groove/); flags override it.
    #[arg(long, value_name = "NAME")]
    preset: Option<String>,
    /// Presets folder (default: presets/groove beside the models folder).
    #[arg(long, value_name = "DIR")]
    presets: Option<PathBuf>,
    /// Encode this drum clip and write variations around it instead of sampling new grooves.
    #[arg(long, value_name = "CLIP.mid")]
    from: Option<PathBuf>,
    /// How far --from variations stray from the clip, in latent standard deviations (0 gives the
    /// clip back as the model heard it). Variations of a clip play its most likely hits.
    #[arg(long, default_value_t = 0.5)]
    spread: f32,
    /// 0..2: how adventurous sampled grooves are (1 = as the training data).
    #[arg(long)]
    temperature: Option<f32>,
    /// 0..1: fewer (0) or more (1) hits than the model's own choice (0.5).
    #[arg(long)]
    density: Option<f32>,
    /// 0..1: delay of every second 16th (1 = triplet shuffle).
    #[arg(long)]
    swing: Option<f32>,
    /// 0..1: how much of the model's micro-timing is played (0 = quantised).
    #[arg(long)]
    humanize_timing: Option<f32>,
    /// 0..1: how much of the model's dynamics is played (0 = flat velocities).
    #[arg(long)]
    humanize_velocity: Option<f32>,
    /// Seed of the generated drum kit used for the WAV renders.
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=MAX_SEED as i64))]
    kit_seed: Option<u32>,
    /// 0..1: morphs the kit along a path through the drum model's latent space.
    #[arg(long)]
    kit_timbre: Option<f32>,
    /// Write only MIDI files, no WAV renders.
    #[arg(long)]
    no_audio: bool,
    /// Replace existing output files.
    #[arg(long)]
    force: bool,
}

fn parse_bpm(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if BPM_RANGE.contains(&v) {
        Ok(v)
    } else {
        Err(format!("tempo must be {}..{} BPM", BPM_RANGE.start(), BPM_RANGE.end()))
    }
}

fn unit(name: &str, v: Option<f32>, lo: f32, hi: f32) -> Result<Option<f32>> {
    match v {
        Some(x) if !(lo..=hi).contains(&x) => bail!("--{name} {x} is outside {lo}..{hi}"),
        other => Ok(other),
    }
}

pub fn run(g: &GlobalArgs, args: GrooveArgs) -> Result<u8> {
    let bars: usize = args.bars.parse().expect("clap checked");
    let store = ModelStore::locate(g.models.as_deref())?;
    let preset = match &args.preset {
        Some(name) => {
            let dir = args.presets.clone().unwrap_or_else(|| crate::presets_dir(&store.dir, "groove"));
            Some(presets::find::<GroovePreset>(&dir, name)?)
        }
        None => None,
    };
    let settings = settings_from(&args, preset.as_ref())?;
    let bpm = args.bpm.or(preset.as_ref().map(|p| p.bpm)).unwrap_or(120.0);
    if !(args.spread.is_finite() && (0.0..=3.0).contains(&args.spread)) {
        bail!("--spread {} is outside 0..3", args.spread);
    }

    let runtime = crate::runtime(g)?;
    let model =
        GrooveModel::load(&runtime, &store, if args.from.is_some() { GrooveUse::Clips } else { GrooveUse::Seeds })?;
    let kit = if args.no_audio { None } else { Some(DrumModel::load(&runtime, &store)?.kit(&settings.kit_knobs())?) };

    // One list of 2-bar latents per output file.
    let phrases = bars / PATTERN_BARS;
    let (stem, latents, takes): (String, Vec<Vec<Vec<f32>>>, Vec<Take>) = match &args.from {
        Some(clip) => {
            let patterns = groove::patterns_from_midi(clip)?;
            let encoded = model.encode(&patterns)?;
            let stem = clip.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "clip".into());
            let means: Vec<Vec<f32>> = encoded.into_iter().map(|(mu, _)| mu).collect();
            let spinner = if g.quiet { ProgressBar::hidden() } else { ProgressBar::new_spinner() };
            spinner.set_message(format!(
                "fitting the groove latent to {} ({} x 2 bars)",
                clip.display(),
                patterns.len()
            ));
            spinner.enable_steady_tick(std::time::Duration::from_millis(120));
            let means = groove::refine(&model, &patterns, &means, groove::REFINE_STEPS)?;
            spinner.finish_and_clear();
            let outs = (0..args.count)
                .map(|k| groove::clip_variation(&means, settings.seed as u64, k, phrases, args.spread))
                .collect();
            // A clip's variations keep its lanes as the encoder heard them: they vary in the latent.
            (format!("{stem}_var"), outs, vec![Take::MostLikely; args.count as usize])
        }
        None => {
            let (outs, takes) = (0..args.count)
                .map(|k| {
                    let mut knobs = settings.groove_knobs();
                    knobs.variation = settings.variation + k;
                    (groove::phrase_plan(&knobs.latent(model.spec()), knobs.seed, k, phrases), knobs.take())
                })
                .unzip();
            (format!("groove_s{}_", settings.seed), outs, takes)
        }
    };

    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("{}: cannot create the output folder", args.out_dir.display()))?;
    let bar = if g.quiet || args.count < 2 {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(args.count as u64).with_style(
            ProgressStyle::with_template("{spinner} {bar:30} {pos}/{len} grooves {msg}").expect("static template"),
        )
    };
    let feel = settings.feel();
    for (k, (phrase, take)) in latents.iter().zip(takes).enumerate() {
        let patterns = model.decode(phrase, take)?;
        let base = args.out_dir.join(format!("{stem}{k:02}"));
        let mid = base.with_extension("mid");
        crate::output::check_free(&mid, args.force, args.from.as_deref())?;
        write_bytes_atomic(&mid, &groove::midi_file(&patterns, &feel, bpm))
            .with_context(|| format!("{}: cannot write", mid.display()))?;
        let mut line = mid.display().to_string();
        if let Some(kit) = &kit {
            let wav = base.with_extension("wav");
            crate::output::check_free(&wav, args.force, None)?;
            let audio = drums::render_patterns(&patterns, &feel, bpm, kit, &drums::Mix::default());
            drums::write_wav(&wav, &audio, kit.sample_rate)?;
            line.push_str(&format!(" + {}", wav.display()));
        }
        let hits: usize = patterns.iter().map(|p| p.hit_counts(feel.density).iter().sum::<usize>()).sum();
        if !g.quiet {
            bar.suspend(|| println!("{line} ({bars} bars, {hits} hits, {bpm} BPM)"));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(0)
}

fn settings_from(args: &GrooveArgs, preset: Option<&GroovePreset>) -> Result<GrooveSettings> {
    let mut s = preset.map(|p| p.settings).unwrap_or_default();
    if let Some(v) = args.seed {
        s.seed = v;
    }
    if let Some(v) = unit("temperature", args.temperature, 0.0, 2.0)? {
        s.temperature = v;
    }
    if let Some(v) = unit("density", args.density, 0.0, 1.0)? {
        s.density = v;
    }
    if let Some(v) = unit("swing", args.swing, 0.0, 1.0)? {
        s.swing = v;
    }
    if let Some(v) = unit("humanize-timing", args.humanize_timing, 0.0, 1.0)? {
        s.humanize_timing = v;
    }
    if let Some(v) = unit("humanize-velocity", args.humanize_velocity, 0.0, 1.0)? {
        s.humanize_velocity = v;
    }
    if let Some(v) = args.kit_seed {
        s.kit_seed = v;
    }
    if let Some(v) = unit("kit-timbre", args.kit_timbre, 0.0, 1.0)? {
        s.kit_timbre = v;
    }
    Ok(s)
}
