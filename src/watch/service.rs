//! The service loop. The calling thread schedules ([`Scheduler`]): it scans, waits for frames to
//! settle, consults the journal and records outcomes. The three threads of `pipeline` do the
//! work: reader (decode, side passes, sha256) → inference (the one loaded model) → writer
//! (atomic).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};

use super::journal::{Journal, State};
use super::pipeline::start_workers;
use super::scan::{self, FrameFilter};
use super::scheduler::Scheduler;
use super::{Event, Summary, WatchError, WatchOptions, WatchOutput};
use crate::denoise::Denoiser;

/// How often files that have not settled yet are looked at again.
pub(super) const SETTLE_TICK: Duration = Duration::from_millis(25);
/// With file events, a full scan this often anyway: it catches what events missed.
const SAFETY_SCAN: Duration = Duration::from_secs(2);

/// Runs the service until `stop` is set (or, with `once`, until every frame present is
/// finished). Models are loaded before the first frame and stay loaded.
pub fn run(
    opts: &WatchOptions,
    denoiser: Denoiser,
    stop: &AtomicBool,
    report: &mut dyn FnMut(&Event),
) -> Result<Summary, WatchError> {
    let started = Instant::now();
    let journal = prepare(opts, report)?;
    let known_done = journal.all()?.iter().filter(|e| e.state == State::Done).count();
    let filter = frame_filter(opts);
    let roots: Vec<PathBuf> =
        opts.dirs.iter().map(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.clone())).collect();
    let mut files = FileEvents::start(opts, &roots, report);
    let journal_path = opts.journal_path();
    report(&Event::Started { dirs: opts.dirs.clone(), journal: journal_path, polling: files.polling, known_done });

    let (job_tx, done_rx, workers) = start_workers(denoiser, opts.denoise.clone(), opts.missing_passes, opts.temporal);
    let mut scheduler = Scheduler::new(opts, journal);
    while !stop.load(Ordering::Relaxed) {
        if let Some(found) = files.scan_if_due(&roots, &filter, &scheduler, report) {
            scheduler.observe(found, report)?;
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
        if opts.once && files.first_scan_done && scheduler.idle() {
            break;
        }
    }
    drop(files);
    // Stop taking frames; the ones in the threads are finished (or fail cleanly), never cut off.
    drop(job_tx);
    for outcome in done_rx {
        scheduler.record(outcome, report)?;
    }
    for w in workers {
        let _ = w.join();
    }
    let summary = scheduler.finish(started.elapsed().as_secs_f64());
    report(&Event::Stopped { summary });
    Ok(summary)
}

/// Checks the folders, makes the output folder, opens the journal (reset or failed frames
/// released as asked) and removes what a killed run left half-written.
fn prepare(opts: &WatchOptions, report: &mut dyn FnMut(&Event)) -> Result<Journal, WatchError> {
    for dir in &opts.dirs {
        if !dir.is_dir() {
            return Err(WatchError::NotAFolder { path: dir.clone() });
        }
        if let WatchOutput::Dir(out) = &opts.output {
            if crate::io::is_same_file(out, dir) {
                return Err(WatchError::OutputIsInput(out.clone()));
            }
        }
    }
    if let WatchOutput::Dir(out) = &opts.output {
        std::fs::create_dir_all(out).map_err(|source| WatchError::OutputFolder { path: out.clone(), source })?;
    }
    let (journal, warning) = Journal::open(&opts.journal_path())?;
    if let Some(message) = warning {
        report(&Event::Warning { message });
    }
    if opts.reset {
        journal.reset()?;
    } else if opts.retry_failed {
        journal.retry_failed()?;
    }
    remove_stale_temporaries(opts);
    Ok(journal)
}

/// Which files are frames: the extensions, not side passes, not our own outputs.
fn frame_filter(opts: &WatchOptions) -> FrameFilter {
    FrameFilter {
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
    }
}

/// How the service learns of new files: file events with a safety scan, or scans alone (asked
/// for, events unavailable, or a file that arrived without an event: a network share).
struct FileEvents {
    watcher: Option<notify::RecommendedWatcher>,
    events: mpsc::Receiver<PathBuf>,
    polling: bool,
    poll_every: Duration,
    seen_in_events: HashSet<PathBuf>,
    last_full_scan: Option<Instant>,
    first_scan_done: bool,
}

impl FileEvents {
    fn start(opts: &WatchOptions, roots: &[PathBuf], report: &mut dyn FnMut(&Event)) -> FileEvents {
        let (tx, events) = mpsc::channel::<PathBuf>();
        let mut watcher = None;
        let mut polling = opts.poll.is_some();
        if !polling {
            match start_watcher(roots, opts.recursive, tx) {
                Ok(w) => watcher = Some(w),
                Err(reason) => {
                    polling = true;
                    report(&Event::Warning {
                        message: format!("file events unavailable ({reason}); scanning instead"),
                    });
                }
            }
        }
        FileEvents {
            watcher,
            events,
            polling,
            poll_every: opts.poll.unwrap_or(Duration::from_millis(500)),
            seen_in_events: HashSet::new(),
            last_full_scan: None,
            first_scan_done: false,
        }
    }

    /// Every frame file under the roots with its stamp, when a scan is due: a full scan on
    /// schedule, after file events, or while files wait to settle.
    fn scan_if_due(
        &mut self,
        roots: &[PathBuf],
        filter: &FrameFilter,
        scheduler: &Scheduler,
        report: &mut dyn FnMut(&Event),
    ) -> Option<Vec<(PathBuf, PathBuf, scan::Stamp)>> {
        let mut events = false;
        while let Ok(path) = self.events.try_recv() {
            self.seen_in_events.insert(path);
            events = true;
        }
        let now = Instant::now();
        let every = if self.polling { self.poll_every } else { SAFETY_SCAN };
        let full_due = self.last_full_scan.is_none_or(|t| now.duration_since(t) >= every);
        let settle_due =
            scheduler.has_waiting() && self.last_full_scan.is_none_or(|t| now.duration_since(t) >= SETTLE_TICK);
        if !(full_due || events || (settle_due && !self.polling)) {
            return None;
        }
        let mut found = Vec::new();
        for root in roots {
            let mut files = Vec::new();
            scan::scan(root, scheduler.recursive(), filter, &mut files);
            found.extend(files.into_iter().map(|(p, s)| (root.clone(), p, s)));
        }
        if !self.polling && self.first_scan_done && full_due {
            // A settled file no event told us about: events do not arrive here (network share).
            let missed =
                found.iter().find(|(_, p, s)| !self.seen_in_events.contains(p) && !scheduler.knows(p) && s.size > 0);
            if let Some((_, p, _)) = missed {
                self.polling = true;
                self.watcher = None;
                let message = format!(
                    "{} appeared without a file event (network share?); scanning every {} ms instead",
                    p.display(),
                    self.poll_every.as_millis()
                );
                report(&Event::Warning { message });
            }
        }
        self.last_full_scan = Some(now);
        self.first_scan_done = true;
        Some(found)
    }
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
