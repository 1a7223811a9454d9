//! The worker side of the watch service: three threads in a pipeline, so reading the next frame
//! overlaps inference of the current one and writing of the last. [`reader_loop`] decodes a
//! frame with its side passes and hashes it (or finds it needs no work), [`inference_loop`] runs
//! the one loaded model, [`writer_loop`] writes atomically; each ends as an [`Outcome`] for the
//! scheduler.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread;
use std::time::Instant;

use super::scan::Stamp;
use crate::denoise::temporal::{window_of, FileStamp, TemporalDenoiser, TemporalParams};
use crate::denoise::{read_source, DenoiseError, DenoiseOptions, Denoiser, Source};
use crate::io::digest::sha256_file;
use crate::io::frame;
use crate::io::limits::DecodeLimits;
use crate::presets::denoise::MissingPasses;

/// One frame handed to the worker threads.
pub(super) struct Job {
    pub(super) input: PathBuf,
    pub(super) output: PathBuf,
    pub(super) stamp: Stamp,
    /// The journal's sha256 of an earlier version: unchanged content is not redone.
    pub(super) known_sha: Option<String>,
    /// An existing output that decodes and is newer than the input is adopted, not redone.
    pub(super) adopt: bool,
    /// Side-file passes may still arrive: report that instead of going on without them.
    pub(super) may_wait: bool,
    pub(super) started: Instant,
}

pub(super) enum Outcome {
    Done {
        job: Job,
        sha256: String,
        model: String,
        device: String,
        infer_ms: u64,
        warning: Option<String>,
        /// Temporal mode: the files the output depends on.
        window: Option<Vec<FileStamp>>,
    },
    Skipped {
        job: Job,
        sha256: String,
        why: &'static str,
    },
    Failed {
        job: Job,
        reason: String,
        retry: bool,
    },
    Vanished {
        job: Job,
    },
    WaitPasses {
        job: Job,
    },
}

/// A frame read and checked, on its way to inference.
struct Loaded {
    job: Job,
    source: Source,
    sha256: String,
    warning: Option<String>,
}

/// A frame denoised, on its way to the writer.
struct Denoised {
    loaded: Loaded,
    color: Vec<f32>,
    model: String,
    device: String,
    infer_ms: u64,
    window: Option<Vec<FileStamp>>,
}

/// Starts reader, inference and writer; returns the job queue's sender and the outcomes.
pub(super) fn start_workers(
    denoiser: Denoiser,
    opts: DenoiseOptions,
    missing: MissingPasses,
    temporal: Option<TemporalParams>,
) -> (SyncSender<Job>, Receiver<Outcome>, Vec<thread::JoinHandle<()>>) {
    let (job_tx, job_rx) = mpsc::sync_channel::<Job>(1);
    let (loaded_tx, loaded_rx) = mpsc::sync_channel::<Loaded>(1);
    let (denoised_tx, denoised_rx) = mpsc::sync_channel::<Denoised>(1);
    let (done_tx, done_rx) = mpsc::channel::<Outcome>();
    let spawn = |name: &str, body: Box<dyn FnOnce() + Send>| {
        thread::Builder::new().name(name.into()).spawn(body).unwrap_or_else(|e| panic!("spawning {name}: {e}"))
    };
    let reader = {
        let (done_tx, opts) = (done_tx.clone(), opts.clone());
        spawn("watch-reader", Box::new(move || reader_loop(job_rx, loaded_tx, done_tx, &opts, missing)))
    };
    let inference = {
        let done_tx = done_tx.clone();
        spawn(
            "watch-inference",
            Box::new(move || inference_loop(loaded_rx, denoised_tx, done_tx, &denoiser, &opts, temporal)),
        )
    };
    let writer = spawn("watch-writer", Box::new(move || writer_loop(denoised_rx, done_tx)));
    (job_tx, done_rx, vec![reader, inference, writer])
}

/// Reads each job's frame (or finds it needs no work) and passes it on.
fn reader_loop(
    jobs: Receiver<Job>,
    loaded: SyncSender<Loaded>,
    done: Sender<Outcome>,
    opts: &DenoiseOptions,
    missing: MissingPasses,
) {
    for job in jobs {
        match read(job, opts, missing) {
            Read::Frame(frame) => {
                if loaded.send(frame).is_err() {
                    break;
                }
            }
            Read::Finished(outcome) => {
                let _ = done.send(outcome);
            }
        }
    }
}

/// Denoises each frame read (with its history in temporal mode) and passes it to the writer.
fn inference_loop(
    frames: Receiver<Loaded>,
    denoised: SyncSender<Denoised>,
    done: Sender<Outcome>,
    denoiser: &Denoiser,
    opts: &DenoiseOptions,
    temporal: Option<TemporalParams>,
) {
    let temporal = temporal.map(|params| TemporalDenoiser::new(denoiser, opts.clone(), params));
    for mut loaded in frames {
        let t = Instant::now();
        let result = match &temporal {
            Some(temporal) => {
                let window = window_of(&loaded.job.input, temporal.params().window);
                temporal.denoise_source(&window, &loaded.source, &loaded.job.input).map(|d| {
                    if !d.warnings.is_empty() {
                        let cut = format!("{}; its window starts after that", d.warnings.join("; "));
                        loaded.warning = Some(loaded.warning.take().map_or(cut.clone(), |w| format!("{w}; {cut}")));
                    }
                    (d.color, d.model, d.device, Some(d.used))
                })
            }
            None => denoiser
                .denoise_frame(&loaded.source.frame, &opts_for(opts, &loaded), &loaded.job.input)
                .map(|d| (d.color, d.model, d.device, None)),
        };
        match result {
            Ok((color, model, device, window)) => {
                let infer_ms = t.elapsed().as_millis() as u64;
                let frame = Denoised { color, model, device: device.to_string(), infer_ms, window, loaded };
                if denoised.send(frame).is_err() {
                    break;
                }
            }
            Err(e) => {
                let retry = !matches!(&e, DenoiseError::Frame(f) if f.is_permanent());
                let _ = done.send(Outcome::Failed { job: loaded.job, reason: crate::error_chain(&e), retry });
            }
        }
    }
}

/// Writes each denoised frame atomically and reports how it ended.
fn writer_loop(frames: Receiver<Denoised>, done: Sender<Outcome>) {
    for d in frames {
        let Loaded { job, mut source, sha256, warning } = d.loaded;
        source.frame.color = d.color;
        let outcome = match frame::write_frame_atomic(&source.frame, &job.output) {
            Ok(()) => Outcome::Done {
                job,
                sha256,
                model: d.model,
                device: d.device,
                infer_ms: d.infer_ms,
                warning,
                window: d.window,
            },
            Err(e) => Outcome::Failed { job, reason: crate::error_chain(&e), retry: true },
        };
        let _ = done.send(outcome);
    }
}

/// The denoise options for one frame: without passes when they were given up on.
fn opts_for(opts: &DenoiseOptions, loaded: &Loaded) -> DenoiseOptions {
    let mut o = opts.clone();
    if loaded.warning.is_some() {
        o.use_aux = false;
    }
    o
}

/// What the reader makes of a job: a frame for inference, or an outcome already.
enum Read {
    Frame(Loaded),
    Finished(Outcome),
}

/// The reader's part: checks for an unchanged or already finished frame, reads it with its
/// passes, hashes it. Anything but a frame to denoise comes back as an outcome.
fn read(job: Job, opts: &DenoiseOptions, missing: MissingPasses) -> Read {
    if !job.input.is_file() {
        return Read::Finished(Outcome::Vanished { job });
    }
    let sha256 = match sha256_file(&job.input) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Read::Finished(Outcome::Vanished { job }),
        Err(e) => {
            return Read::Finished(Outcome::Failed {
                reason: format!("{}: cannot read: {e}", job.input.display()),
                job,
                retry: true,
            })
        }
    };
    if job.output.is_file() {
        if job.known_sha.as_deref() == Some(sha256.as_str()) {
            return Read::Finished(Outcome::Skipped { job, sha256, why: "content unchanged since it was done" });
        }
        if job.adopt && output_is_intact(&job.input, &job.output, &opts.limits) {
            return Read::Finished(Outcome::Skipped { job, sha256, why: "its output is already there and intact" });
        }
    }
    let source = match read_source(&job.input, opts) {
        Ok(s) => s,
        Err(_) if !job.input.is_file() => return Read::Finished(Outcome::Vanished { job }),
        // A file over a limit stays over it: failed at once. Others may still be being written.
        Err(e) => {
            let retry = !e.is_permanent();
            return Read::Finished(Outcome::Failed { reason: crate::error_chain(&e), job, retry });
        }
    };
    if let Err(e) = source.check_output(&job.output) {
        return Read::Finished(Outcome::Failed { reason: crate::error_chain(&e), job, retry: false });
    }
    let wants = |pattern: &Option<String>, has: bool| opts.use_aux && pattern.is_some() && !has;
    let missing_pass = wants(&opts.albedo_pattern, source.frame.albedo.is_some())
        || wants(&opts.normal_pattern, source.frame.normal.is_some());
    let mut warning = None;
    if missing_pass {
        if job.may_wait {
            return Read::Finished(Outcome::WaitPasses { job });
        }
        let message = format!("{}: albedo/normal side files did not arrive in time", job.input.display());
        match missing {
            MissingPasses::Fail => return Read::Finished(Outcome::Failed { reason: message, job, retry: false }),
            MissingPasses::ColorOnly => warning = Some(format!("{message}; denoised from colour alone")),
        }
    }
    Read::Frame(Loaded { job, source, sha256, warning })
}

/// An output newer than its input that decodes: a finished frame the journal does not know of
/// (a run killed between writing it and recording it, or a rebuilt journal).
fn output_is_intact(input: &Path, output: &Path, limits: &DecodeLimits) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(input), modified(output)) {
        (Some(i), Some(o)) if o >= i => frame::read_frame(output, limits).is_ok(),
        _ => false,
    }
}
