//! Export: the groove playing (under the edit layer), the next variations, the kit's render of
//! the groove and one stem per lane, into a new folder under the export folder the user chose
//! once (saved with the editor's settings). The editor asks; the worker thread, which has the
//! models, writes every file atomically and reports the folder, so the audio thread never sees it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use latentforge::drums::{self, DrumModel, Mix};
use latentforge::groove::{self, GrooveModel, Pattern, LANES, LANE_NAMES};
use latentforge::io::atomic::write_bytes_atomic;
use latentforge::presets::GrooveSettings;

use crate::edits::EditLayer;

/// Most variations one export writes.
pub const MAX_VARIATIONS: u32 = 16;
/// The kit is rendered at this rate, whatever the host's.
const EXPORT_RATE: u32 = 48_000;

/// What to export: a copy of what plays, taken by the editor from the audio thread's snapshot.
#[derive(Debug, Clone)]
pub struct ExportJob {
    pub take: Pattern,
    pub layer: EditLayer,
    pub settings: GrooveSettings,
    pub mix: Mix,
    pub bpm: f64,
    pub variations: u32,
    pub dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExportState {
    Idle,
    Running,
    /// The folder written.
    Done(PathBuf),
    Failed(String),
}

/// The editor's requests and the worker's answers.
pub struct Exports {
    job: Mutex<Option<ExportJob>>,
    state: Mutex<ExportState>,
}

impl Default for Exports {
    fn default() -> Self {
        Exports { job: Mutex::new(None), state: Mutex::new(ExportState::Idle) }
    }
}

impl Exports {
    pub fn request(&self, job: ExportJob) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = ExportState::Running;
        *self.job.lock().unwrap_or_else(|e| e.into_inner()) = Some(job);
    }

    pub fn take_job(&self) -> Option<ExportJob> {
        self.job.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    pub fn finish(&self, result: Result<PathBuf, String>) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = match result {
            Ok(dir) => ExportState::Done(dir),
            Err(e) => ExportState::Failed(e),
        };
    }

    pub fn state(&self) -> ExportState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Where exports go until the user says otherwise: `$XDG_MUSIC_DIR` (or `~/Music`)`/Latent Groove`.
pub fn default_dir() -> PathBuf {
    let music = std::env::var_os("XDG_MUSIC_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join("Music")))
        .unwrap_or_else(std::env::temp_dir);
    music.join("Latent Groove")
}

/// The first of `parent/<seed…>-var<…><ext>`, `…-2<ext>`, `…-3<ext>` … that does not exist yet:
/// exports and dragged files are named after their groove and never overwrite one.
pub fn free_path(parent: &Path, settings: &GrooveSettings, ext: &str) -> Result<PathBuf, String> {
    let base = format!("seed{}-var{}", settings.seed, settings.variation);
    (1..10_000)
        .map(|n| parent.join(if n == 1 { format!("{base}{ext}") } else { format!("{base}-{n}{ext}") }))
        .find(|p| !p.exists())
        .ok_or_else(|| format!("{}: too many files of seed {}", parent.display(), settings.seed))
}

/// Writes the export into a hidden folder, then renames it into place, so a folder that shows
/// up is complete; returns it. The `.mid` files need only the groove model (for variations); the
/// audio needs the drum model and is left out, with a note saying so, without it.
pub fn run(job: &ExportJob, groove: Option<&GrooveModel>, drums: Option<&DrumModel>) -> Result<PathBuf, String> {
    let parent = &job.dir;
    std::fs::create_dir_all(parent)
        .map_err(|e| format!("{}: cannot create the export folder: {e}", parent.display()))?;
    let partial = parent.join(format!(".latent-groove-export-{}.partial", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
    let result = write_files(job, &partial, groove, drums).and_then(|()| {
        let done = free_path(parent, &job.settings, "")?;
        std::fs::rename(&partial, &done).map_err(|e| format!("{}: {e}", done.display()))?;
        Ok(done)
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    result
}

fn write_files(
    job: &ExportJob,
    dir: &Path,
    groove: Option<&GrooveModel>,
    drums: Option<&DrumModel>,
) -> Result<(), String> {
    let feel = job.settings.feel();
    let bpm = if job.bpm.is_finite() && groove::BPM_RANGE.contains(&job.bpm) { job.bpm } else { 120.0 };
    let write = |name: &str, bytes: &[u8]| {
        write_bytes_atomic(&dir.join(name), bytes).map_err(|e| format!("{}: {e}", dir.join(name).display()))
    };
    let played = job.layer.apply(&job.take);
    write("groove.mid", &groove::midi_file(&[played], &feel, bpm))?;
    if let Some(model) = groove {
        for k in 1..=job.variations.min(MAX_VARIATIONS) {
            let mut knobs = job.settings.groove_knobs();
            knobs.variation = knobs.variation.wrapping_add(k);
            let z = knobs.latent(model.spec());
            let pattern =
                model.decode(std::slice::from_ref(&z), knobs.take()).map_err(|e| latentforge::error_chain(&e))?[0];
            write(&format!("variation-{k}.mid"), &groove::midi_file(&[job.layer.apply(&pattern)], &feel, bpm))?;
        }
    }
    let Some(model) = drums else {
        return write("NO-AUDIO.txt", b"The drum model was missing from the plugin bundle: MIDI only.\n");
    };
    let kit = model
        .kit(&job.settings.kit_knobs())
        .and_then(|k| k.resampled(EXPORT_RATE))
        .map_err(|e| latentforge::error_chain(&e))?;
    let mix = drums::render_patterns(&[played], &feel, bpm, &kit, &job.mix);
    drums::write_wav(&dir.join("groove.wav"), &mix, EXPORT_RATE).map_err(|e| latentforge::error_chain(&e))?;
    let stems = dir.join("stems");
    std::fs::create_dir_all(&stems).map_err(|e| format!("{}: {e}", stems.display()))?;
    for (lane, name) in LANE_NAMES.iter().enumerate() {
        let mut solo = EditLayer { solo: [false; LANES], ..job.layer };
        solo.solo[lane] = true;
        let alone = solo.apply(&job.take);
        if alone.hit_counts(feel.density)[lane] == 0 {
            continue;
        }
        let audio = drums::render_patterns(&[alone], &feel, bpm, &kit, &job.mix);
        drums::write_wav(&stems.join(format!("{name}.wav")), &audio, EXPORT_RATE)
            .map_err(|e| latentforge::error_chain(&e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use latentforge::groove::Cell;

    #[test]
    fn midi_only_export_writes_a_new_folder_each_time() {
        let tmp = tempfile::tempdir().unwrap();
        let mut take = Pattern::default();
        take.cells[0][0] = Cell { prob: 0.9, velocity: 0.8, offset: 0.0 };
        let job = ExportJob {
            take,
            layer: EditLayer::default(),
            settings: GrooveSettings::default(),
            mix: Mix::default(),
            bpm: 120.0,
            variations: 2,
            dir: tmp.path().join("exports"),
        };
        let first = run(&job, None, None).unwrap();
        let second = run(&job, None, None).unwrap();
        assert_ne!(first, second, "a second export must not overwrite the first");
        let hidden = std::fs::read_dir(tmp.path().join("exports"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.'));
        assert_eq!(hidden.count(), 0, "no partial folder is left behind");
        for dir in [&first, &second] {
            assert!(dir.join("groove.mid").is_file() && dir.join("NO-AUDIO.txt").is_file());
        }
        let patterns = groove::patterns_from_midi(&first.join("groove.mid")).unwrap();
        assert!(patterns[0].cells[0][0].prob > 0.5, "the kick on step 0 is in the MIDI file");
    }
}
