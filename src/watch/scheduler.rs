//! The watch service's bookkeeping: what it knows of each file this run ([`Track`]), when a file
//! has settled and goes to the workers, and what each [`Outcome`] means for the journal, the
//! summary and the events (retries with backoff, frames waiting for their passes, temporal
//! windows redone when a frame arrives late).

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::{Duration, Instant};

use super::journal::{Entry, Journal, State};
use super::pipeline::{Job, Outcome};
use super::scan::{Settle, Stamp};
use super::{Event, Summary, WatchError, WatchOptions};
use crate::denoise::temporal::FileStamp;
use crate::io::sequence::{frame_number, sibling_frame};

/// How often a frame waiting for its side-file passes looks for them again.
const PASSES_TICK: Duration = Duration::from_millis(250);

/// What the scheduler knows of a file this run.
enum Track {
    /// Watched until it settles; or waiting for a retry, or for its passes. `attempts` counts
    /// the failed tries at `stamp`: a file that changes (a slow writer) starts over.
    Waiting { root: PathBuf, stamp: Stamp, attempts: u32, not_before: Instant, passes_since: Option<Instant> },
    /// In the worker threads; what it needs if it comes back for another try.
    InFlight { root: PathBuf, attempts: u32, passes_since: Option<Instant> },
    /// Finished (done, skipped or failed for good) at this stamp.
    Finished(Stamp),
}

pub(super) struct Scheduler<'a> {
    opts: &'a WatchOptions,
    journal: Journal,
    tracks: HashMap<PathBuf, Track>,
    settle: Settle,
    queue: VecDeque<Job>,
    in_flight: usize,
    summary: Summary,
    first_done: Option<Instant>,
    last_progress: Option<(usize, usize, usize, usize)>,
    /// Temporal mode: the files each output of this run depends on.
    windows: HashMap<PathBuf, Vec<FileStamp>>,
    /// Frames to denoise again whatever the journal says: a frame of their window came late.
    redo: HashSet<PathBuf>,
}

impl<'a> Scheduler<'a> {
    pub(super) fn new(opts: &'a WatchOptions, journal: Journal) -> Scheduler<'a> {
        Scheduler {
            opts,
            journal,
            tracks: HashMap::new(),
            settle: Settle::default(),
            queue: VecDeque::new(),
            in_flight: 0,
            summary: Summary::default(),
            first_done: None,
            last_progress: None,
            windows: HashMap::new(),
            redo: HashSet::new(),
        }
    }

    /// Whether `path` is one this run has seen.
    pub(super) fn knows(&self, path: &Path) -> bool {
        self.tracks.contains_key(path)
    }

    /// The run's counts, with how long it took.
    pub(super) fn finish(mut self, seconds: f64) -> Summary {
        self.summary.seconds = seconds;
        self.summary
    }

    pub(super) fn recursive(&self) -> bool {
        self.opts.recursive
    }

    pub(super) fn has_waiting(&self) -> bool {
        self.tracks.values().any(|t| matches!(t, Track::Waiting { .. }))
    }

    /// Nothing left to do: every frame finished, none queued or running. Zero-byte placeholders
    /// that never filled do not count.
    pub(super) fn idle(&self) -> bool {
        self.queue.is_empty()
            && self.in_flight == 0
            && self.tracks.iter().all(|(p, t)| match t {
                Track::Waiting { .. } => std::fs::metadata(p).map(|m| m.len() == 0).unwrap_or(true),
                Track::InFlight { .. } => false,
                Track::Finished(_) => true,
            })
    }

    /// Takes a scan's findings: new files are looked up in the journal, changed ones start over,
    /// settled ones are queued.
    pub(super) fn observe(
        &mut self,
        found: Vec<(PathBuf, PathBuf, Stamp)>,
        report: &mut dyn FnMut(&Event),
    ) -> Result<(), WatchError> {
        let now = Instant::now();
        let present: HashSet<&PathBuf> = found.iter().map(|(_, p, _)| p).collect();
        // Files gone before they were taken are forgotten.
        self.tracks.retain(|p, t| present.contains(p) || !matches!(t, Track::Waiting { .. }));
        for (root, path, stamp) in &found {
            let settled = self.settle.observe(path, *stamp, self.opts.settle);
            match self.tracks.get(path) {
                None => {
                    let track = self.first_sight(root, path, *stamp, report)?;
                    self.tracks.insert(path.clone(), track);
                }
                Some(Track::Finished(s)) if s != stamp => {
                    self.tracks.insert(
                        path.clone(),
                        Track::Waiting {
                            root: root.clone(),
                            stamp: *stamp,
                            attempts: 0,
                            not_before: now,
                            passes_since: None,
                        },
                    );
                }
                _ => {}
            }
            if let Some(Track::Waiting { stamp: seen, attempts, not_before, .. }) = self.tracks.get_mut(path) {
                if seen != stamp {
                    (*seen, *attempts, *not_before) = (*stamp, 0, now);
                }
            }
            let Some(Track::Waiting { root, attempts, not_before, passes_since, .. }) = self.tracks.get(path) else {
                continue;
            };
            if !settled || now < *not_before {
                continue;
            }
            let (root, attempts, passes_since) = (root.clone(), *attempts, *passes_since);
            let output = self.opts.output_for(&root, path);
            let entry = self.journal.get(path)?;
            let forced = self.redo.remove(path);
            let known_sha = entry.as_ref().filter(|e| e.state == State::Done && !forced).and_then(|e| e.sha256.clone());
            let may_wait = passes_since.is_none_or(|since| now.duration_since(since) < self.opts.passes_timeout);
            self.journal.put(&Entry {
                input: path.clone(),
                output: output.clone(),
                size: stamp.size,
                mtime_ns: stamp.mtime_ns,
                sha256: None,
                state: State::Pending,
                attempts,
                reason: None,
            })?;
            self.queue.push_back(Job {
                input: path.clone(),
                output,
                stamp: *stamp,
                known_sha,
                adopt: !self.opts.reset && !forced,
                may_wait: may_wait && self.opts.passes_timeout > Duration::ZERO,
                started: now,
            });
            self.tracks.insert(path.clone(), Track::InFlight { root, attempts, passes_since });
        }
        Ok(())
    }

    /// A file seen for the first time this run: finished before (by the journal), or to watch.
    fn first_sight(
        &mut self,
        root: &Path,
        path: &Path,
        stamp: Stamp,
        report: &mut dyn FnMut(&Event),
    ) -> Result<Track, WatchError> {
        if let Some(e) = self.journal.get(path)? {
            let same = e.size == stamp.size && e.mtime_ns == stamp.mtime_ns;
            let skip = match e.state {
                State::Done if same && e.output.is_file() => Some("done in an earlier run (journal)"),
                State::Failed if same => Some("failed in an earlier run; --retry-failed tries it again"),
                _ => None,
            };
            if let Some(why) = skip {
                // A frame that failed before still has no output: it counts as failed.
                if e.state == State::Failed {
                    self.summary.failed += 1;
                } else {
                    self.summary.skipped += 1;
                }
                report(&Event::Skipped { input: path.to_path_buf(), why: why.into() });
                return Ok(Track::Finished(stamp));
            }
        }
        Ok(Track::Waiting {
            root: root.to_path_buf(),
            stamp,
            attempts: 0,
            not_before: Instant::now(),
            passes_since: None,
        })
    }

    /// Hands queued frames to the reader while it has room: the queue stays here, so a stop
    /// abandons only frames no thread has started.
    pub(super) fn dispatch(&mut self, jobs: &SyncSender<Job>) {
        while let Some(job) = self.queue.pop_front() {
            match jobs.try_send(job) {
                Ok(()) => self.in_flight += 1,
                Err(TrySendError::Full(job)) | Err(TrySendError::Disconnected(job)) => {
                    self.queue.push_front(job);
                    break;
                }
            }
        }
    }

    pub(super) fn record(&mut self, outcome: Outcome, report: &mut dyn FnMut(&Event)) -> Result<(), WatchError> {
        self.in_flight = self.in_flight.saturating_sub(1);
        let job = match &outcome {
            Outcome::Done { job, .. }
            | Outcome::Skipped { job, .. }
            | Outcome::Failed { job, .. }
            | Outcome::Vanished { job }
            | Outcome::WaitPasses { job } => job,
        };
        let (root, attempts, passes_since) = match self.tracks.remove(&job.input) {
            Some(Track::InFlight { root, attempts, passes_since }) => (root, attempts, passes_since),
            _ => (job.input.parent().unwrap_or(Path::new("")).to_path_buf(), 0, None),
        };
        let mut entry = Entry {
            input: job.input.clone(),
            output: job.output.clone(),
            size: job.stamp.size,
            mtime_ns: job.stamp.mtime_ns,
            sha256: None,
            state: State::Done,
            attempts: attempts + 1,
            reason: None,
        };
        let finished = Track::Finished(job.stamp);
        match outcome {
            Outcome::Done { job, sha256, model, device, infer_ms, warning, window } => {
                if let Some(message) = warning {
                    report(&Event::Warning { message });
                }
                if let Some(window) = window {
                    self.windows.insert(job.input.clone(), window);
                    self.redo_later_frames(&job.input, &root);
                }
                entry.sha256 = Some(sha256);
                self.journal.put(&entry)?;
                self.summary.done += 1;
                self.first_done.get_or_insert(job.started);
                report(&Event::Done {
                    input: job.input.clone(),
                    output: job.output.clone(),
                    model,
                    device,
                    infer_ms,
                    total_ms: job.started.elapsed().as_millis() as u64,
                });
                self.tracks.insert(job.input, finished);
            }
            Outcome::Skipped { job, sha256, why } => {
                entry.sha256 = Some(sha256);
                self.journal.put(&entry)?;
                self.summary.skipped += 1;
                report(&Event::Skipped { input: job.input.clone(), why: why.into() });
                self.tracks.insert(job.input, finished);
            }
            Outcome::Vanished { job } => {
                self.settle.forget(&job.input);
                self.journal.forget(&job.input)?;
                report(&Event::Vanished { input: job.input });
            }
            Outcome::WaitPasses { job } => {
                let now = Instant::now();
                self.tracks.insert(
                    job.input,
                    Track::Waiting {
                        root,
                        stamp: job.stamp,
                        attempts,
                        not_before: now + PASSES_TICK,
                        passes_since: Some(passes_since.unwrap_or(now)),
                    },
                );
            }
            Outcome::Failed { job, reason, retry } => {
                let tries = attempts + 1;
                if retry && tries < self.opts.attempts {
                    let delay = self.opts.backoff * 2u32.saturating_pow(attempts.min(16));
                    report(&Event::Retry {
                        input: job.input.clone(),
                        attempt: tries,
                        reason,
                        retry_in_ms: delay.as_millis() as u64,
                    });
                    let not_before = Instant::now() + delay;
                    let waiting = Track::Waiting { root, stamp: job.stamp, attempts: tries, not_before, passes_since };
                    self.tracks.insert(job.input, waiting);
                } else {
                    entry.state = State::Failed;
                    entry.reason = Some(reason.clone());
                    self.journal.put(&entry)?;
                    self.summary.failed += 1;
                    report(&Event::Failed { input: job.input.clone(), reason });
                    self.tracks.insert(job.input, finished);
                }
            }
        }
        Ok(())
    }

    /// Temporal mode: `input` was just denoised, so the finished frames after it whose window
    /// should hold it (and did not, at its present version) are stale: they go back to the queue,
    /// past the journal, and come out as one run in frame order would have written them.
    fn redo_later_frames(&mut self, input: &Path, root: &Path) {
        let (Some(window), Some(n)) = (self.opts.temporal.map(|t| t.window), frame_number(input)) else { return };
        let now = FileStamp::of(input);
        for later in (1..window as u64).filter_map(|k| sibling_frame(input, n + k)) {
            let Some(Track::Finished(stamp)) = self.tracks.get(&later) else { continue };
            if self.windows.get(&later).is_some_and(|w| w.contains(&now)) {
                continue;
            }
            let waiting = Track::Waiting {
                root: root.to_path_buf(),
                stamp: *stamp,
                attempts: 0,
                not_before: Instant::now(),
                passes_since: None,
            };
            self.tracks.insert(later.clone(), waiting);
            self.redo.insert(later);
        }
    }

    /// Reports the counts when they changed.
    pub(super) fn progress(&mut self, report: &mut dyn FnMut(&Event)) {
        let queued = self.queue.len() + self.tracks.values().filter(|t| matches!(t, Track::Waiting { .. })).count();
        let counts = (queued, self.in_flight, self.summary.done, self.summary.failed);
        if self.last_progress == Some(counts) {
            return;
        }
        self.last_progress = Some(counts);
        let frames_per_s = match self.first_done {
            Some(t) if self.summary.done > 1 => self.summary.done as f64 / t.elapsed().as_secs_f64().max(1e-3),
            _ => 0.0,
        };
        report(&Event::Progress {
            queued,
            running: self.in_flight,
            done: self.summary.done,
            failed: self.summary.failed,
            frames_per_s,
        });
    }
}
