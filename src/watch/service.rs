//! The service loop. The calling thread schedules: it scans, waits for frames to settle,
//! consults the journal and records outcomes. Three threads do the work in a pipeline, so reading
//! the next frame overlaps inference of the current one and writing of the last:
//! reader (decode, side passes, sha256) → inference (the one loaded model) → writer (atomic).

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError};
use std::thread;
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};

use super::journal::{Entry, Journal, State};
use super::scan::{self, FrameFilter, Settle, Stamp};
use super::{Event, Summary, WatchError, WatchOptions, WatchOutput};
use crate::denoise::temporal::{window_of, FileStamp, TemporalDenoiser, TemporalParams};
use crate::denoise::{read_source, DenoiseError, DenoiseOptions, Denoiser, Source};
use crate::io::digest::sha256_file;
use crate::io::frame;
use crate::io::limits::DecodeLimits;
use crate::io::sequence::{frame_number, sibling_frame};
use crate::presets::denoise::MissingPasses;

/// How often files that have not settled yet are looked at again.
const SETTLE_TICK: Duration = Duration::from_millis(25);
/// With file events, a full scan this often anyway: it catches what events missed.
const SAFETY_SCAN: Duration = Duration::from_secs(2);
/// How often a frame waiting for its side-file passes looks for them again.
const PASSES_TICK: Duration = Duration::from_millis(250);

/// One frame handed to the worker threads.
struct Job {
    input: PathBuf,
    output: PathBuf,
    stamp: Stamp,
    /// The journal's sha256 of an earlier version: unchanged content is not redone.
    known_sha: Option<String>,
    /// An existing output that decodes and is newer than the input is adopted, not redone.
    adopt: bool,
    /// Side-file passes may still arrive: report that instead of going on without them.
    may_wait: bool,
    started: Instant,
}

enum Outcome {
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

/// Runs the service until `stop` is set (or, with `once`, until every frame present is
/// finished). Models are loaded before the first frame and stay loaded.
pub fn run(
    opts: &WatchOptions,
    denoiser: Denoiser,
    stop: &AtomicBool,
    report: &mut dyn FnMut(&Event),
) -> Result<Summary, WatchError> {
    let started = Instant::now();
    for dir in &opts.dirs {
        if !dir.is_dir() {
            return Err(WatchError::Folder { path: dir.clone(), reason: "not a folder".into() });
        }
        if let WatchOutput::Dir(out) = &opts.output {
            if crate::io::is_same_file(out, dir) {
                return Err(WatchError::OutputIsInput(out.clone()));
            }
        }
    }
    if let WatchOutput::Dir(out) = &opts.output {
        std::fs::create_dir_all(out).map_err(|e| WatchError::Folder { path: out.clone(), reason: e.to_string() })?;
    }
    let journal_path = opts.journal_path();
    let (journal, warning) = Journal::open(&journal_path)?;
    if let Some(message) = warning {
        report(&Event::Warning { message });
    }
    if opts.reset {
        journal.reset()?;
    } else if opts.retry_failed {
        journal.retry_failed()?;
    }
    remove_stale_temporaries(opts);

    let filter = FrameFilter {
        extensions: opts.extensions.clone(),
        side_patterns: [&opts.denoise.albedo_pattern, &opts.denoise.normal_pattern]
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
        output_suffix: match &opts.output {
            WatchOutput::Suffix(s) => Some(s.clone()),
            WatchOutput::Dir(_) => None,
        },
        output_dir: match &opts.output {
            WatchOutput::Dir(d) => Some(std::fs::canonicalize(d).unwrap_or_else(|_| d.clone())),
            WatchOutput::Suffix(_) => None,
        },
    };
    let roots: Vec<PathBuf> =
        opts.dirs.iter().map(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.clone())).collect();

    // File events, unless polling was asked for or events cannot be had here.
    let (event_tx, event_rx) = mpsc::channel::<PathBuf>();
    let mut watcher = None;
    let mut polling = opts.poll.is_some();
    if !polling {
        match start_watcher(&roots, opts.recursive, event_tx) {
            Ok(w) => watcher = Some(w),
            Err(reason) => {
                polling = true;
                report(&Event::Warning { message: format!("file events unavailable ({reason}); scanning instead") });
            }
        }
    }
    let poll_every = opts.poll.unwrap_or(Duration::from_millis(500));
    let known_done = journal.all()?.iter().filter(|e| e.state == State::Done).count();
    report(&Event::Started { dirs: opts.dirs.clone(), journal: journal_path, polling, known_done });

    let (job_tx, done_rx, workers) = start_workers(denoiser, opts.denoise.clone(), opts.missing_passes, opts.temporal);
    let mut scheduler = Scheduler {
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
    };

    let mut seen_in_events: HashSet<PathBuf> = HashSet::new();
    let mut last_full_scan: Option<Instant> = None;
    let mut first_scan_done = false;
    while !stop.load(Ordering::Relaxed) {
        let mut events = false;
        while let Ok(path) = event_rx.try_recv() {
            seen_in_events.insert(path);
            events = true;
        }
        let now = Instant::now();
        let full_due =
            last_full_scan.is_none_or(|t| now.duration_since(t) >= if polling { poll_every } else { SAFETY_SCAN });
        let settle_due = scheduler.has_waiting() && last_full_scan.is_none_or(|t| now.duration_since(t) >= SETTLE_TICK);
        if full_due || events || (settle_due && !polling) {
            let mut found = Vec::new();
            for root in &roots {
                let mut files = Vec::new();
                scan::scan(root, opts.recursive, &filter, &mut files);
                found.extend(files.into_iter().map(|(p, s)| (root.clone(), p, s)));
            }
            if !polling && first_scan_done && full_due {
                // A settled file no event told us about: events do not arrive here (network share).
                let missed = found
                    .iter()
                    .find(|(_, p, s)| !seen_in_events.contains(p) && !scheduler.tracks.contains_key(p) && s.size > 0);
                if let Some((_, p, _)) = missed {
                    polling = true;
                    watcher = None;
                    let message = format!(
                        "{} appeared without a file event (network share?); scanning every {} ms instead",
                        p.display(),
                        poll_every.as_millis()
                    );
                    report(&Event::Warning { message });
                }
            }
            scheduler.observe(found, report)?;
            last_full_scan = Some(now);
            first_scan_done = true;
        }
        scheduler.dispatch(&job_tx);
        match done_rx.recv_timeout(SETTLE_TICK) {
            Ok(outcome) => {
                scheduler.record(outcome, report)?;
                while let Ok(outcome) = done_rx.try_recv() {
                    scheduler.record(outcome, report)?;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        scheduler.progress(report);
        if opts.once && first_scan_done && scheduler.idle() {
            break;
        }
    }
    drop(watcher);
    // Stop taking frames; the ones in the threads are finished (or fail cleanly), never cut off.
    drop(job_tx);
    for outcome in done_rx {
        scheduler.record(outcome, report)?;
    }
    for w in workers {
        let _ = w.join();
    }
    scheduler.summary.seconds = started.elapsed().as_secs_f64();
    let summary = scheduler.summary;
    report(&Event::Stopped { summary });
    Ok(summary)
}

fn start_watcher(
    roots: &[PathBuf],
    recursive: bool,
    tx: Sender<PathBuf>,
) -> notify::Result<notify::RecommendedWatcher> {
    let mut w = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            for p in ev.paths {
                let _ = tx.send(p);
            }
        }
    })?;
    let mode = if recursive { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive };
    for root in roots {
        w.watch(root, mode)?;
    }
    Ok(w)
}

/// Temporary files a killed run left behind in the output folders (never finished outputs).
fn remove_stale_temporaries(opts: &WatchOptions) {
    fn sweep(dir: &Path, recursive: bool) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if recursive && !name.starts_with('.') {
                    sweep(&p, recursive);
                }
            } else if name.starts_with(".latentforge-") && name.ends_with(".partial") {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
    match &opts.output {
        WatchOutput::Dir(out) => sweep(out, true),
        WatchOutput::Suffix(_) => opts.dirs.iter().for_each(|d| sweep(d, opts.recursive)),
    }
}

struct Scheduler<'a> {
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

impl Scheduler<'_> {
    fn has_waiting(&self) -> bool {
        self.tracks.values().any(|t| matches!(t, Track::Waiting { .. }))
    }

    /// Nothing left to do: every frame finished, none queued or running. Zero-byte placeholders
    /// that never filled do not count.
    fn idle(&self) -> bool {
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
    fn observe(
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
    fn dispatch(&mut self, jobs: &SyncSender<Job>) {
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

    fn record(&mut self, outcome: Outcome, report: &mut dyn FnMut(&Event)) -> Result<(), WatchError> {
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
    fn progress(&mut self, report: &mut dyn FnMut(&Event)) {
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

/// Starts reader, inference and writer; returns the job queue's sender and the outcomes.
fn start_workers(
    denoiser: Denoiser,
    opts: DenoiseOptions,
    missing: MissingPasses,
    temporal: Option<TemporalParams>,
) -> (SyncSender<Job>, Receiver<Outcome>, Vec<thread::JoinHandle<()>>) {
    let (job_tx, job_rx) = mpsc::sync_channel::<Job>(1);
    let (loaded_tx, loaded_rx) = mpsc::sync_channel::<Loaded>(1);
    let (denoised_tx, denoised_rx) = mpsc::sync_channel::<Denoised>(1);
    let (done_tx, done_rx) = mpsc::channel::<Outcome>();
    let reader = {
        let (done_tx, opts) = (done_tx.clone(), opts.clone());
        thread::Builder::new()
            .name("watch-reader".into())
            .spawn(move || {
                for job in job_rx {
                    match read(job, &opts, missing) {
                        Read::Frame(loaded) => {
                            if loaded_tx.send(loaded).is_err() {
                                break;
                            }
                        }
                        Read::Finished(outcome) => {
                            let _ = done_tx.send(outcome);
                        }
                    }
                }
            })
            .expect("spawning the watch reader thread")
    };
    let inference = {
        let done_tx = done_tx.clone();
        thread::Builder::new()
            .name("watch-inference".into())
            .spawn(move || {
                let temporal = temporal.map(|params| TemporalDenoiser::new(&denoiser, opts.clone(), params));
                for mut loaded in loaded_rx {
                    let t = Instant::now();
                    let result = match &temporal {
                        Some(temporal) => {
                            let window = window_of(&loaded.job.input, temporal.params().window);
                            temporal.denoise_source(&window, &loaded.source, &loaded.job.input).map(|d| {
                                if !d.warnings.is_empty() {
                                    let cut = format!("{}; its window starts after that", d.warnings.join("; "));
                                    loaded.warning =
                                        Some(loaded.warning.take().map_or(cut.clone(), |w| format!("{w}; {cut}")));
                                }
                                (d.color, d.model, d.device, Some(d.used))
                            })
                        }
                        None => denoiser
                            .denoise_frame(&loaded.source.frame, &opts_for(&opts, &loaded), &loaded.job.input)
                            .map(|d| (d.color, d.model, d.device, None)),
                    };
                    match result {
                        Ok((color, model, device, window)) => {
                            let denoised = Denoised {
                                color,
                                model,
                                device: device.to_string(),
                                infer_ms: t.elapsed().as_millis() as u64,
                                window,
                                loaded,
                            };
                            if denoised_tx.send(denoised).is_err() {
                                break;
                            }
                        }
                        Err(e) => {
                            let retry = !matches!(&e, DenoiseError::Frame(f) if f.is_permanent());
                            let _ = done_tx.send(Outcome::Failed { job: loaded.job, reason: e.to_string(), retry });
                        }
                    }
                }
            })
            .expect("spawning the watch inference thread")
    };
    let writer = thread::Builder::new()
        .name("watch-writer".into())
        .spawn(move || {
            for d in denoised_rx {
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
                    Err(e) => Outcome::Failed { job, reason: e.to_string(), retry: true },
                };
                let _ = done_tx.send(outcome);
            }
        })
        .expect("spawning the watch writer thread");
    (job_tx, done_rx, vec![reader, inference, writer])
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
            return Read::Finished(Outcome::Failed { reason: e.to_string(), job, retry });
        }
    };
    if let Err(e) = source.check_output(&job.output) {
        return Read::Finished(Outcome::Failed { reason: e.to_string(), job, retry: false });
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
