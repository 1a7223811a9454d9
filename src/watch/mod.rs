//! The watch service: denoises frames as a renderer writes them into watched folders, and loses
//! nothing. A frame is taken once it has settled and decodes; its side-file passes are waited for
//! up to a timeout; reading the next frame, inference and writing run on three threads so they
//! overlap; outputs are written atomically; a journal ([`journal`]) in the output folder makes a
//! restart skip finished frames and redo changed ones. Failures are retried with backoff, then
//! recorded, and the service keeps going.
//!
//! `scan` finds frames, `service` runs the loop, `scheduler` decides what happens to each file
//! and `pipeline` reads, denoises and writes. Front ends get [`Event`]s and decide how to
//! show them (status line, log lines, JSON).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::denoise::temporal::TemporalParams;
use crate::denoise::DenoiseOptions;
use crate::presets::denoise::MissingPasses;

pub mod journal;
mod pipeline;
mod scan;
mod scheduler;
mod service;

pub use journal::{Entry, Journal, State, JOURNAL_FILE};
pub use scan::is_temporary;
pub use service::run;

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("{path}: cannot watch: not a folder")]
    NotAFolder { path: PathBuf },
    #[error("{path}: cannot make the output folder")]
    OutputFolder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: journal error (delete it to rebuild it; finished outputs are kept)")]
    Journal {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the output folder {0} is one of the watched folders; choose another --out-dir or use --suffix")]
    OutputIsInput(PathBuf),
}

/// Where outputs go.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchOutput {
    /// A tree mirroring the watched folders (one watched folder: its layout; several: one
    /// subfolder per watched folder, by its name).
    Dir(PathBuf),
    /// Beside each input, as `<stem><suffix>.<ext>`.
    Suffix(String),
}

#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub dirs: Vec<PathBuf>,
    pub output: WatchOutput,
    pub recursive: bool,
    /// Lower-case file extensions that are frames.
    pub extensions: Vec<String>,
    /// A file is taken once it kept its size and time this long (and decodes).
    pub settle: Duration,
    /// How long a complete frame waits for missing side-file passes.
    pub passes_timeout: Duration,
    pub missing_passes: MissingPasses,
    /// Scan every so often instead of using file events.
    pub poll: Option<Duration>,
    /// Process what is there, then return.
    pub once: bool,
    /// Tries per frame before it is recorded as failed.
    pub attempts: u32,
    /// First retry delay; each further one doubles it.
    pub backoff: Duration,
    /// Forget the journal and redo every frame.
    pub reset: bool,
    /// Try the frames the journal records as failed again.
    pub retry_failed: bool,
    pub denoise: DenoiseOptions,
    /// Temporal mode: each frame with the frames before it (see [`crate::denoise::temporal`]).
    /// A frame that arrives after later ones were done makes those within its window redo.
    pub temporal: Option<TemporalParams>,
}

impl WatchOptions {
    /// Where the journal lives: the output folder, or the first watched folder when outputs go
    /// beside their inputs.
    pub fn journal_path(&self) -> PathBuf {
        match &self.output {
            WatchOutput::Dir(d) => d.join(JOURNAL_FILE),
            WatchOutput::Suffix(_) => self.dirs.first().map(|d| d.join(JOURNAL_FILE)).unwrap_or_default(),
        }
    }

    /// The output of `input` found under the watched folder `root`.
    pub fn output_for(&self, root: &Path, input: &Path) -> PathBuf {
        match &self.output {
            WatchOutput::Suffix(suffix) => {
                let stem = input.file_stem().unwrap_or_default().to_string_lossy();
                let ext = input.extension().unwrap_or_default().to_string_lossy();
                input.with_file_name(format!("{stem}{suffix}.{ext}"))
            }
            WatchOutput::Dir(out) => {
                let rel = input.strip_prefix(root).unwrap_or(input);
                if self.dirs.len() > 1 {
                    out.join(root.file_name().unwrap_or_default()).join(rel)
                } else {
                    out.join(rel)
                }
            }
        }
    }
}

/// What happened, for the front end to show. Serialises as one JSON object with an `event` tag.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The service is watching; how many frames the journal already holds as done.
    Started {
        dirs: Vec<PathBuf>,
        journal: PathBuf,
        polling: bool,
        known_done: usize,
    },
    Warning {
        message: String,
    },
    /// A frame was denoised and written.
    Done {
        input: PathBuf,
        output: PathBuf,
        model: String,
        device: String,
        infer_ms: u64,
        total_ms: u64,
    },
    /// A frame was already done (journal or intact output) and is skipped.
    Skipped {
        input: PathBuf,
        why: String,
    },
    /// A try failed; it is retried after `retry_in_ms`.
    Retry {
        input: PathBuf,
        attempt: u32,
        reason: String,
        retry_in_ms: u64,
    },
    /// A frame failed for good (recorded in the journal).
    Failed {
        input: PathBuf,
        reason: String,
    },
    /// An input vanished before it was processed.
    Vanished {
        input: PathBuf,
    },
    /// Counts for a status line, sent whenever they change.
    Progress {
        queued: usize,
        running: usize,
        done: usize,
        failed: usize,
        frames_per_s: f64,
    },
    Stopped {
        summary: Summary,
    },
}

/// Totals of one run of the service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Denoised in this run.
    pub done: usize,
    /// Finished before (journal, unchanged content or an intact output).
    pub skipped: usize,
    /// Without an output: failed in this run, or in an earlier one and not retried.
    pub failed: usize,
    pub seconds: f64,
}
