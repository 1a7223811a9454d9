//! Denoising a list of frames with the stages overlapped, as the watch service does: while frame
//! k is inferred on the calling thread, frame k+1 is read on one thread and frame k-1 written on
//! another, so a sequence costs about its inference time. Results come back in input order, on
//! the calling thread.

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use super::{lap, read_source, DenoiseError, DenoiseOptions, DenoiseReport, Denoiser, Source};

/// One frame to denoise: its input and where the result goes.
#[derive(Debug, Clone)]
pub struct BatchJob {
    pub input: PathBuf,
    pub output: PathBuf,
}

/// What the caller's `on_done` says after each frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Continue,
    /// Start no new frame (the one being inferred and those being written still finish and are
    /// reported; frames read ahead are dropped unreported).
    Stop,
}

/// A frame read (or its read error), on its way to inference.
struct Read {
    index: usize,
    started: Instant,
    result: Result<(Source, f64), DenoiseError>,
}

/// A frame denoised (or the error that stopped it), on its way to the writer.
struct Inferred {
    index: usize,
    started: Instant,
    result: Result<(Source, super::Denoised, f64), DenoiseError>,
}

impl Denoiser {
    /// Denoises `jobs` in order, reading ahead and writing behind on two threads. `on_done` gets
    /// each frame's index and result in input order, on this thread.
    pub fn denoise_batch(
        &self,
        jobs: &[BatchJob],
        opts: &DenoiseOptions,
        mut on_done: impl FnMut(usize, Result<DenoiseReport, DenoiseError>) -> Next,
    ) {
        // Capacity 1: at most one frame read ahead and one waiting to be written, so memory
        // holds three frames at a time whatever the length of the list.
        let (read_tx, read_rx) = mpsc::sync_channel::<Read>(1);
        let (infer_tx, infer_rx) = mpsc::sync_channel::<Inferred>(1);
        let (done_tx, done_rx) = mpsc::channel::<(usize, Result<DenoiseReport, DenoiseError>)>();
        let stop = std::sync::atomic::AtomicBool::new(false);
        thread::scope(|scope| {
            let stop = &stop;
            scope.spawn(move || {
                for (index, job) in jobs.iter().enumerate() {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let started = Instant::now();
                    let mut t = Instant::now();
                    let result = read_source(&job.input, opts)
                        .and_then(|source| source.check_output(&job.output).map(|()| source))
                        .map(|source| (source, lap(&mut t)))
                        .map_err(DenoiseError::from);
                    if read_tx.send(Read { index, started, result }).is_err() {
                        break;
                    }
                }
            });
            scope.spawn(move || {
                for item in infer_rx {
                    let job = &jobs[item.index];
                    let report = item.result.and_then(|(source, done, read)| {
                        DenoiseReport::write(source, done, &job.input, &job.output, read, item.started)
                    });
                    if done_tx.send((item.index, report)).is_err() {
                        break;
                    }
                }
            });
            let mut report = |(index, result)| {
                if on_done(index, result) == Next::Stop {
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            };
            for item in read_rx {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let result = match item.result {
                    Ok((source, read)) => self
                        .denoise_frame(&source.frame, opts, &jobs[item.index].input)
                        .map(|done| (source, done, read)),
                    Err(e) => Err(e),
                };
                if infer_tx.send(Inferred { index: item.index, started: item.started, result }).is_err() {
                    break;
                }
                while let Ok(done) = done_rx.try_recv() {
                    report(done);
                }
            }
            drop(infer_tx);
            for done in done_rx {
                report(done);
            }
        });
    }
}
