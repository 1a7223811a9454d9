//! Fuzzing every file reader on stable Rust: seeded mutations of real files per format (see
//! `targets`), each fed to its reader, which must not panic, abort or hang, must return an error
//! or a valid value, and must not allocate over a cap (a counting global allocator, `alloc`).
//!
//! `cargo xtask test` runs [`CASES`] cases per format. `cargo xtask fuzz [--format F]
//! [--minutes N]` runs this binary for longer, with new seeds, through these variables:
//! - `LF_FUZZ_FORMAT`: one target (`exr`, `png`, `tiff`, `jpeg`, `hdr`, `pfm`, `midi`, `preset`,
//!   `manifest`);
//! - `LF_FUZZ_SECONDS`: seconds per target instead of a case count;
//! - `LF_FUZZ_SEED`: the first case seed (cases are `seed`, `seed + 1`, ...);
//! - `LF_FUZZ_REPLAY`: one file to feed (its target is the folder it lies in, or its extension);
//! - `LF_FUZZ_CURRENT`: the folder each case is written to before it is read (default: a
//!   temporary one), where the case that aborted the process is found.
//!
//! Every failing input is kept under `.work/fuzz/failures/<target>/` (git-ignored); the
//! committed regression cases in `tests/fixtures/fuzz/<target>/` run first, every time.

mod alloc;
mod mutate;
mod targets;

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use alloc::{Case, Counting, Usage};
use mutate::{mutate, Rng};
use targets::{Target, CAP, TARGETS};

#[global_allocator]
static COUNTING: Counting = Counting;

/// Cases per target in a plain test run (a few seconds each on 2 cores).
const CASES: u64 = 2500;
/// A case that takes longer than this is a hang.
const HANG: Duration = Duration::from_secs(20);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Why a case failed, or `None`.
fn verdict(outcome: std::thread::Result<Result<(), String>>, usage: Usage) -> Option<String> {
    match outcome {
        Err(_) => Some(format!("panicked: {}", PANIC.lock().unwrap().take().unwrap_or_default())),
        Ok(_) if usage.peak > CAP => Some(format!(
            "allocated {} MiB at its peak (largest single request {} MiB), over the {} MiB cap",
            usage.peak >> 20,
            usage.largest >> 20,
            CAP >> 20
        )),
        Ok(_) => None,
    }
}

/// The message of the last panic, kept by the quiet hook instead of printed.
static PANIC: Mutex<Option<String>> = Mutex::new(None);
/// When the running case began (ms since the harness started; 0: none running).
static CASE_START_MS: AtomicU64 = AtomicU64::new(0);

/// What one case did: read (or refused), a decoder panic the reader contained, and why it
/// failed, if it did.
struct Judged {
    read: bool,
    contained: bool,
    failure: Option<String>,
}

/// Feeds one file to a target's reader and judges it.
fn run_case(target: &Target, path: &Path, bytes: &[u8], epoch: Instant) -> Judged {
    fs::write(path, bytes).expect("writing the case");
    PANIC.lock().unwrap().take();
    CASE_START_MS.store(epoch.elapsed().as_millis() as u64 + 1, Ordering::SeqCst);
    let case = Case::begin();
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| (target.read)(path)));
    let usage = case.usage();
    CASE_START_MS.store(0, Ordering::SeqCst);
    let read = matches!(outcome, Ok(Ok(())));
    let contained = outcome.is_ok() && PANIC.lock().unwrap().is_some();
    Judged { read, contained, failure: verdict(outcome, usage) }
}

/// Keeps a failing input where `cargo xtask fuzz` and the replay find it.
fn keep_failure(target: &Target, bytes: &[u8], why: &str) -> PathBuf {
    let dir = root().join(".work/fuzz/failures").join(target.name);
    fs::create_dir_all(&dir).unwrap();
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    let path = dir.join(format!("{hash:016x}.{}", target.ext));
    fs::write(&path, bytes).unwrap();
    fs::write(path.with_extension("txt"), why).unwrap();
    path
}

fn replay_command(path: &Path) -> String {
    format!("LF_FUZZ_REPLAY={} cargo test --test fuzz -- --nocapture", path.display())
}

/// A thread that aborts the process with the case's path when one case hangs.
fn watchdog(epoch: Instant, current: PathBuf) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_secs(1));
        let started = CASE_START_MS.load(Ordering::SeqCst);
        if started > 0 && epoch.elapsed().as_millis() as u64 > started + HANG.as_millis() as u64 {
            eprintln!("fuzz: a case ran over {} s (a hang); its input is in {}", HANG.as_secs(), current.display());
            std::process::abort();
        }
    });
}

struct Tally {
    cases: u64,
    read: u64,
    /// Decoder panics the readers turned into refusals (`io::limits::contain_panics`).
    contained: u64,
    failures: Vec<String>,
}

fn fuzz_target(target: &Target, work: &Path, epoch: Instant) -> Tally {
    let seeds = (target.seeds)(&work.join(format!("seeds-{}", target.name)));
    assert!(!seeds.is_empty(), "{}: no seeds", target.name);
    // The file the readers see: `cargo xtask fuzz` names a folder that outlives a process abort.
    let current_dir = std::env::var_os("LF_FUZZ_CURRENT").map_or_else(|| work.join("current"), PathBuf::from);
    fs::create_dir_all(&current_dir).unwrap();
    let current = current_dir.join(format!("{}.{}", target.name, target.ext));
    let mut tally = Tally { cases: 0, read: 0, contained: 0, failures: Vec::new() };
    let regressions = root().join("tests/fixtures/fuzz").join(target.name);
    let mut inputs: Vec<PathBuf> =
        fs::read_dir(&regressions).map_or(Vec::new(), |d| d.map(|e| e.unwrap().path()).collect());
    inputs.sort();
    // Seeds as they are, and the committed regression cases, before any mutation.
    let fixed: Vec<(String, Vec<u8>)> = seeds
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("seed {i}"), s.clone()))
        .chain(inputs.iter().map(|p| (p.display().to_string(), fs::read(p).unwrap())))
        .collect();
    for (name, bytes) in &fixed {
        let judged = run_case(target, &current, bytes, epoch);
        if name.starts_with("seed") && !judged.read {
            let why = (target.read)(&current).err().unwrap_or_default();
            panic!("{}: {name} does not read ({why}): the seeds must be valid files", target.name);
        }
        if let Some(why) = judged.failure {
            tally.failures.push(format!("{}: {name}: {why}", target.name));
        }
    }
    let first: u64 = env("LF_FUZZ_SEED").unwrap_or(1);
    let budget = env::<f64>("LF_FUZZ_SECONDS").map(Duration::from_secs_f64);
    let started = Instant::now();
    let mut k = first;
    loop {
        match budget {
            Some(b) if started.elapsed() >= b => break,
            None if k - first >= CASES => break,
            _ => {}
        }
        let mut rng = Rng::new(k ^ (target.name.len() as u64) << 40);
        let seed = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        let mut bytes = mutate(seed, other, &(target.fields)(seed), &mut rng);
        if rng.below(2) == 0 {
            (target.fixup)(&mut bytes);
        }
        let judged = run_case(target, &current, &bytes, epoch);
        tally.cases += 1;
        tally.read += judged.read as u64;
        tally.contained += judged.contained as u64;
        if let Some(why) = judged.failure {
            let kept = keep_failure(target, &bytes, &why);
            tally.failures.push(format!(
                "{}: case seed {k}: {why}\n  kept: {}\n  replay: {}",
                target.name,
                kept.display(),
                replay_command(&kept)
            ));
        }
        k += 1;
    }
    tally
}

fn replay(path: &Path) {
    let folder = path.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap_or("");
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let target = TARGETS
        .iter()
        .find(|t| t.name == folder)
        .or_else(|| TARGETS.iter().find(|t| t.ext == ext))
        .unwrap_or_else(|| panic!("{}: no target reads .{ext} files", path.display()));
    let work = tempfile::tempdir().unwrap();
    let case = work.path().join(format!("case.{}", target.ext));
    let bytes = fs::read(path).unwrap();
    let judged = run_case(target, &case, &bytes, Instant::now());
    let what = if judged.read { "read" } else { "refused" };
    let contained = if judged.contained { ", a decoder panic contained" } else { "" };
    println!("{}: {what} ({}{contained})", path.display(), target.name);
    if let Some(why) = judged.failure {
        panic!("{}: {why}", path.display());
    }
}

#[test]
fn every_reader_survives_mutated_files() {
    let epoch = Instant::now();
    // Panics inside a case are recorded quietly (thousands may be contained); others, such as
    // the harness's own assertions, are reported as usual.
    let report = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if CASE_START_MS.load(Ordering::SeqCst) == 0 {
            return report(info);
        }
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        *PANIC.lock().unwrap() = Some(format!("{msg}{at}"));
    }));
    if let Ok(path) = std::env::var("LF_FUZZ_REPLAY") {
        return replay(Path::new(&path));
    }
    let only: Option<String> = env("LF_FUZZ_FORMAT");
    if let Some(f) = &only {
        assert!(TARGETS.iter().any(|t| t.name == f), "LF_FUZZ_FORMAT={f}: not one of the targets");
    }
    let work = tempfile::tempdir().unwrap();
    watchdog(epoch, std::env::var_os("LF_FUZZ_CURRENT").map_or_else(|| work.path().join("current"), PathBuf::from));
    let mut failures = Vec::new();
    for target in TARGETS.iter().filter(|t| only.as_ref().is_none_or(|o| o == t.name)) {
        fs::create_dir_all(work.path().join(format!("seeds-{}", target.name))).unwrap();
        let t = Instant::now();
        let tally = fuzz_target(target, work.path(), epoch);
        println!(
            "fuzz {:<8} {:>7} cases, {:>6} read, {:>6} refused ({} decoder panics contained), {} failing, {:.1} s",
            target.name,
            tally.cases,
            tally.read,
            tally.cases - tally.read,
            tally.contained,
            tally.failures.len(),
            t.elapsed().as_secs_f64()
        );
        failures.extend(tally.failures);
    }
    assert!(failures.is_empty(), "{} failing cases:\n{}", failures.len(), failures.join("\n"));
}
