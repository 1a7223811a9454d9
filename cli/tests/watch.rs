//! `latentforge watch` under faults, as a render wrangler's night goes: real processes on real
//! files, every wait bounded. A burst of 500 frames; slow chunked writers, temp-then-rename writers
//! and zero-byte placeholders; truncated and garbage frames; the service killed with SIGKILL 20
//! times; an output folder that cannot be written; inputs deleted before they are taken; side
//! passes that arrive late; the journal deleted or corrupted between runs.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use latentforge::io::frame::{self, ExrChannel};

mod common;
use common::{fixture, latentforge, p, text};

const JOURNAL: &str = ".latentforge-watch.db";

/// A small multilayer EXR frame like Blender's (Combined + Denoising Albedo/Normal), cut from the
/// committed 8 spp render at `(x0, y0)`, `size` pixels square; `aux: false` leaves the passes out.
fn frame_bytes(x0: usize, y0: usize, size: usize, aux: bool) -> Vec<u8> {
    let src = frame::read_frame(&fixture("noisy_8spp.exr"), &Default::default()).unwrap();
    let channels: Vec<ExrChannel> = src
        .exr_channels
        .iter()
        .filter(|c| aux || c.name.contains("Combined"))
        .map(|c| ExrChannel {
            name: c.name.clone(),
            half: c.half,
            data: (0..size * size).map(|i| c.data[(y0 + i / size) * src.width + x0 + i % size]).collect(),
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.exr");
    frame::write_exr_channels(&path, size, size, &channels).unwrap();
    fs::read(path).unwrap()
}

/// Writes a file whole under a temporary name, then renames it into place (how most tools write).
fn drop_frame(path: &Path, bytes: &[u8]) {
    let tmp = path.with_file_name(format!(".{}.tmp", path.file_name().unwrap().to_string_lossy()));
    fs::write(&tmp, bytes).unwrap();
    fs::rename(tmp, path).unwrap();
}

fn watch_cmd(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_latentforge"));
    c.arg("watch").args(args).args(["--threads", "1", "--json"]);
    c
}

fn watch_once(args: &[&str]) -> Output {
    watch_cmd(args).arg("--once").output().unwrap()
}

/// A running service whose JSON events are collected line by line.
struct Service {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Service {
    fn start(args: &[&str]) -> Service {
        let mut child = watch_cmd(args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut s = Service { child, lines, seen: Vec::new() };
        s.wait_for(|l| l.contains(r#""event":"started""#), Duration::from_secs(30));
        s
    }

    /// Waits until `count` event lines satisfy `pred`; panics with what was seen after `limit`.
    fn wait_count(&mut self, pred: impl Fn(&str) -> bool, count: usize, limit: Duration) {
        let end = Instant::now() + limit;
        while self.seen.iter().filter(|l| pred(l)).count() < count {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(l) => self.seen.push(l),
                Err(_) if Instant::now() >= end => {
                    let _ = self.child.kill();
                    panic!("timed out; events so far:\n{}", self.seen.join("\n"));
                }
                Err(_) => {}
            }
        }
    }

    fn wait_for(&mut self, pred: impl Fn(&str) -> bool, limit: Duration) {
        self.wait_count(pred, 1, limit);
    }

    fn count(&mut self, pred: impl Fn(&str) -> bool) -> usize {
        while let Ok(l) = self.lines.try_recv() {
            self.seen.push(l);
        }
        self.seen.iter().filter(|l| pred(l)).count()
    }

    /// SIGTERM, then the exit status and every event.
    fn stop(mut self) -> (std::process::ExitStatus, Vec<String>) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = wait_bounded(&mut self.child, Duration::from_secs(60));
        self.seen.extend(self.lines.iter());
        (status, self.seen)
    }
}

fn wait_bounded(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let end = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("the watcher did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn is(event: &'static str) -> impl Fn(&str) -> bool {
    move |l: &str| l.contains(&format!(r#""event":"{event}""#))
}

/// Every file under `dir` (relative), sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The outputs in `out` (journal files aside): each must decode.
fn decodable_outputs(out: &Path) -> Vec<String> {
    let names: Vec<String> = files(out).into_iter().filter(|n| !n.starts_with(JOURNAL)).collect();
    for n in &names {
        assert!(!n.contains(".partial") && !n.starts_with('.'), "left-over temporary file {n}");
        frame::read_frame(&out.join(n), &Default::default()).unwrap_or_else(|e| panic!("{n} does not decode: {e}"));
    }
    names
}

fn frame_names(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("shot_{i:04}.exr")).collect()
}

#[test]
fn a_burst_of_500_frames_is_denoised_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let (renders, out) = (dir.path().join("renders"), dir.path().join("out"));
    fs::create_dir(&renders).unwrap();
    let mut svc = Service::start(&[p(&renders), "--out-dir", p(&out), "--settle", "100"]);
    let bytes = frame_bytes(40, 30, 16, true);
    let names = frame_names(500);
    for n in &names {
        drop_frame(&renders.join(n), &bytes);
    }
    svc.wait_count(is("done"), 500, Duration::from_secs(240));
    let (status, events) = svc.stop();
    assert!(status.success(), "SIGTERM ends the service with status 0: {status:?}");
    assert_eq!(events.iter().filter(|l| is("done")(l)).count(), 500, "each frame once");
    assert!(events.iter().any(|l| is("stopped")(l) && l.contains(r#""done":500"#)), "a summary at the end");
    assert_eq!(decodable_outputs(&out), names);
    let o = Command::new(env!("CARGO_BIN_EXE_latentforge")).args(["watch", "status", p(&out)]).output().unwrap();
    assert!(text(&o).contains("500 done, 0 failed, 0 pending"), "{}", text(&o));
}

#[test]
fn slow_writers_renames_and_placeholders_are_taken_only_when_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (renders, out) = (dir.path().join("renders"), dir.path().join("out"));
    fs::create_dir(&renders).unwrap();
    let mut svc = Service::start(&[p(&renders), "--out-dir", p(&out), "--settle", "150", "--backoff", "100"]);
    let bytes = frame_bytes(8, 8, 32, true);

    // A Blender placeholder: zero bytes for a while, then the frame written in place.
    let placeholder = renders.join("shot_0003.exr");
    fs::File::create(&placeholder).unwrap();
    // A temp-then-rename writer.
    drop_frame(&renders.join("shot_0002.exr"), &bytes);
    // A slow writer: four chunks with pauses longer than the settle time.
    let slow = renders.join("shot_0001.exr");
    let mut f = fs::File::create(&slow).unwrap();
    for chunk in bytes.chunks(bytes.len().div_ceil(4)) {
        f.write_all(chunk).unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(400));
    }
    drop(f);
    svc.wait_for(|l| is("done")(l) && l.contains("shot_0002.exr"), Duration::from_secs(60));
    assert!(!out.join("shot_0003.exr").exists(), "an empty placeholder is not a frame");
    fs::write(&placeholder, &bytes).unwrap();
    svc.wait_count(is("done"), 3, Duration::from_secs(60));
    let (status, events) = svc.stop();
    assert!(status.success());
    assert!(!events.iter().any(|l| is("failed")(l)), "nothing failed: {events:#?}");
    assert_eq!(decodable_outputs(&out), frame_names(3));
    // The whole slow frame was denoised, not a prefix of it.
    let got = frame::read_frame(&out.join("shot_0001.exr"), &Default::default()).unwrap();
    assert_eq!((got.width, got.height), (32, 32));
}

#[test]
fn truncated_and_garbage_frames_fail_with_reasons_and_the_rest_are_done() {
    let dir = tempfile::tempdir().unwrap();
    let (renders, out) = (dir.path().join("renders"), dir.path().join("out"));
    fs::create_dir(&renders).unwrap();
    let bytes = frame_bytes(0, 0, 16, true);
    for n in frame_names(4) {
        fs::write(renders.join(n), &bytes).unwrap();
    }
    fs::write(renders.join("shot_0005.exr"), &bytes[..bytes.len() / 2]).unwrap();
    fs::write(renders.join("shot_0006.exr"), b"render farm log, not an image").unwrap();
    let o = watch_once(&[p(&renders), "--out-dir", p(&out), "--attempts", "2", "--backoff", "50"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "--once with failures exits 1: {t}");
    assert_eq!(decodable_outputs(&out), frame_names(4));
    for bad in ["shot_0005.exr", "shot_0006.exr"] {
        assert!(
            t.lines().any(|l| is("failed")(l) && l.contains(bad) && l.contains("not a valid OpenEXR")),
            "{bad}: {t}"
        );
    }
    let o = Command::new(env!("CARGO_BIN_EXE_latentforge")).args(["watch", "status", p(&out)]).output().unwrap();
    let s = text(&o);
    assert!(s.contains("4 done, 2 failed, 0 pending") && s.contains("shot_0006.exr (2 tries)"), "{s}");
    // A second run leaves them alone; --retry-failed tries them again.
    let again = text(&watch_once(&[p(&renders), "--out-dir", p(&out), "--attempts", "1"]));
    assert_eq!(again.lines().filter(|l| is("skipped")(l)).count(), 6, "{again}");
    let retried = text(&watch_once(&[p(&renders), "--out-dir", p(&out), "--attempts", "1", "--retry-failed"]));
    assert_eq!(retried.lines().filter(|l| is("failed")(l)).count(), 2, "{retried}");
}

#[test]
fn killed_twenty_times_every_frame_ends_with_exactly_one_output() {
    let dir = tempfile::tempdir().unwrap();
    let (renders, out) = (dir.path().join("renders"), dir.path().join("out"));
    fs::create_dir(&renders).unwrap();
    let bytes = frame_bytes(0, 0, 96, true);
    let names = frame_names(60);
    for n in &names {
        fs::write(renders.join(n), &bytes).unwrap();
    }
    fs::write(renders.join("shot_0061.exr"), b"garbage").unwrap();
    // Kill moments from a fixed-seed generator: the same run every time.
    let mut seed: u64 = 0x5eed;
    for _ in 0..20 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let ms = 50 + (seed >> 33) % 700;
        let mut child = watch_cmd(&[p(&renders), "--out-dir", p(&out), "--attempts", "2", "--backoff", "20"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    let o = watch_once(&[p(&renders), "--out-dir", p(&out), "--attempts", "2", "--backoff", "20"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "the garbage frame has failed: {t}");
    assert_eq!(decodable_outputs(&out), names, "one complete output per good frame, no temporaries");
    let s = text(&Command::new(env!("CARGO_BIN_EXE_latentforge")).args(["watch", "status", p(&out)]).output().unwrap());
    assert!(s.contains("60 done, 1 failed, 0 pending"), "{s}");
    // Nothing is redone after that.
    let t = text(&watch_once(&[p(&renders), "--out-dir", p(&out)]));
    assert_eq!(t.lines().filter(|l| is("done")(l)).count(), 0, "{t}");
}

#[test]
fn an_unwritable_output_folder_fails_frames_with_the_reason_and_the_service_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (renders, out) = (dir.path().join("renders"), dir.path().join("out"));
    fs::create_dir_all(renders.join("sub")).unwrap();
    fs::create_dir_all(&out).unwrap();
    let bytes = frame_bytes(0, 0, 16, true);
    fs::write(renders.join("shot_0001.exr"), &bytes).unwrap();
    fs::write(renders.join("sub/shot_0002.exr"), &bytes).unwrap();
    // Tests run as root, where permission bits stop nothing: a file where the output subfolder
    // must go makes that part of the output tree unwritable for anyone.
    fs::write(out.join("sub"), b"in the way").unwrap();
    let args = [p(&renders), "--out-dir", p(&out), "--recursive", "--attempts", "3", "--backoff", "20"];
    let o = watch_once(&args);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert_eq!(t.lines().filter(|l| is("retry")(l)).count(), 2, "retried with backoff: {t}");
    assert!(t.lines().any(|l| is("failed")(l) && l.contains("sub/shot_0002.exr") && l.contains("cannot write")), "{t}");
    assert!(out.join("shot_0001.exr").is_file(), "the other frame was written");
    fs::remove_file(out.join("sub")).unwrap();
    let o = watch_once(&[&args[..], &["--retry-failed"]].concat());
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.join("sub/shot_0002.exr").is_file());
}

#[test]
fn an_input_deleted_before_it_is_taken_is_no_failure() {
    let dir = tempfile::tempdir().unwrap();
    let (renders, out) = (dir.path().join("renders"), dir.path().join("out"));
    fs::create_dir(&renders).unwrap();
    let mut svc = Service::start(&[p(&renders), "--out-dir", p(&out), "--settle", "1500"]);
    let bytes = frame_bytes(0, 0, 16, true);
    drop_frame(&renders.join("shot_0001.exr"), &bytes);
    std::thread::sleep(Duration::from_millis(300));
    fs::remove_file(renders.join("shot_0001.exr")).unwrap();
    drop_frame(&renders.join("shot_0002.exr"), &bytes);
    svc.wait_for(is("done"), Duration::from_secs(60));
    let (status, events) = svc.stop();
    assert!(status.success());
    assert!(!events.iter().any(|l| is("failed")(l) || is("retry")(l)), "{events:#?}");
    assert_eq!(decodable_outputs(&out), vec!["shot_0002.exr".to_string()]);
}

#[test]
fn side_passes_that_arrive_late_are_waited_for_then_given_up_on() {
    let dir = tempfile::tempdir().unwrap();
    let renders = dir.path().join("renders");
    fs::create_dir(&renders).unwrap();
    let beauty = frame_bytes(0, 0, 32, false);
    let full = frame::read_frame(&fixture("noisy_8spp.exr"), &Default::default()).unwrap();
    let side = |pass: &str, data: &Vec<f32>| {
        let planes: Vec<ExrChannel> = ["R", "G", "B"]
            .iter()
            .enumerate()
            .map(|(c, n)| ExrChannel {
                name: n.to_string(),
                half: false,
                data: (0..32 * 32).map(|i| data[((i / 32) * full.width + i % 32) * 3 + c]).collect(),
            })
            .collect();
        frame::write_exr_channels(&renders.join(format!("shot_0001_{pass}.exr")), 32, 32, &planes).unwrap();
    };
    let mut svc = Service::start(&[p(&renders), "--preset", "generic", "--settle", "100", "--passes-timeout", "20"]);
    drop_frame(&renders.join("shot_0001.exr"), &beauty);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(svc.count(is("done")), 0, "waits for its passes");
    side("albedo", full.albedo.as_ref().unwrap());
    side("normal", full.normal.as_ref().unwrap());
    svc.wait_for(is("done"), Duration::from_secs(60));
    let done = svc.seen.iter().find(|l| is("done")(l)).unwrap().clone();
    assert!(done.contains("denoise-hdr-alb-nrm") && done.contains("shot_0001_dn.exr"), "{done}");
    let (status, events) = svc.stop();
    assert!(status.success());
    assert!(!events.iter().any(|l| l.contains("shot_0001_albedo") && is("done")(l)), "passes are not frames");

    // A frame whose passes never come is denoised from colour alone after the timeout, with a warning.
    drop_frame(&renders.join("shot_0002.exr"), &beauty);
    let o = watch_once(&[p(&renders), "--preset", "generic", "--settle", "100", "--passes-timeout", "1"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.lines().any(|l| is("warning")(l) && l.contains("shot_0002.exr") && l.contains("colour alone")), "{t}");
    assert!(
        t.lines().any(|l| is("done")(l) && l.contains("shot_0002.exr") && l.contains(r#""model":"denoise-hdr""#)),
        "{t}"
    );
}

#[test]
fn a_lost_or_corrupt_journal_is_rebuilt_without_redoing_intact_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let (renders, out) = (dir.path().join("renders"), dir.path().join("out"));
    fs::create_dir(&renders).unwrap();
    let bytes = frame_bytes(0, 0, 16, true);
    for n in frame_names(5) {
        fs::write(renders.join(n), &bytes).unwrap();
    }
    assert!(watch_once(&[p(&renders), "--out-dir", p(&out)]).status.success());
    let stamp = |n: &str| fs::metadata(out.join(n)).unwrap().modified().unwrap();
    let before: Vec<_> = frame_names(5).iter().map(|n| stamp(n)).collect();

    for f in fs::read_dir(&out).unwrap().flatten() {
        if f.file_name().to_string_lossy().starts_with(JOURNAL) {
            fs::remove_file(f.path()).unwrap();
        }
    }
    let t = text(&watch_once(&[p(&renders), "--out-dir", p(&out)]));
    assert_eq!(t.lines().filter(|l| is("skipped")(l) && l.contains("intact")).count(), 5, "{t}");

    fs::write(out.join(JOURNAL), b"\0\0 not sqlite \0\0").unwrap();
    let o = watch_once(&[p(&renders), "--out-dir", p(&out)]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.lines().any(|l| is("warning")(l) && l.contains("rebuilt")), "{t}");
    assert_eq!(t.lines().filter(|l| is("done")(l)).count(), 0, "{t}");
    let after: Vec<_> = frame_names(5).iter().map(|n| stamp(n)).collect();
    assert_eq!(before, after, "no output was rewritten");

    // A changed input is redone.
    fs::write(renders.join("shot_0003.exr"), frame_bytes(32, 32, 16, true)).unwrap();
    let t = text(&watch_once(&[p(&renders), "--out-dir", p(&out)]));
    let done: Vec<&str> = t.lines().filter(|l| is("done")(l)).collect();
    assert!(done.len() == 1 && done[0].contains("shot_0003.exr"), "{t}");
}

#[test]
fn bad_presets_and_folders_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let preset = dir.path().join("mine.toml");
    fs::write(&preset, "name = \"Mine\"\nextensions = [\"exr\"]\nsettle = 5\n").unwrap();
    let o = watch_once(&[p(dir.path()), "--preset", p(&preset)]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(3), "{t}");
    assert!(t.contains("mine.toml") && t.contains("line 3") && t.contains("settle"), "{t}");
    let o = watch_once(&[p(&dir.path().join("nowhere"))]);
    assert!(text(&o).contains("nowhere") && text(&o).contains("not a folder"), "{}", text(&o));
    let o = Command::new(env!("CARGO_BIN_EXE_latentforge")).args(["watch", "status", p(dir.path())]).output().unwrap();
    assert!(text(&o).contains("no watch journal"), "{}", text(&o));
}

#[test]
fn polling_finds_frames_without_file_events() {
    let dir = tempfile::tempdir().unwrap();
    let (renders, out) = (dir.path().join("renders"), dir.path().join("out"));
    fs::create_dir_all(renders.join("deep/er")).unwrap();
    let mut svc = Service::start(&[p(&renders), "--out-dir", p(&out), "--poll", "100", "--recursive"]);
    assert!(svc.seen[0].contains(r#""polling":true"#), "{:?}", svc.seen);
    drop_frame(&renders.join("deep/er/shot_0001.exr"), &frame_bytes(0, 0, 16, true));
    svc.wait_for(is("done"), Duration::from_secs(60));
    let (status, _) = svc.stop();
    assert!(status.success());
    assert_eq!(decodable_outputs(&out), vec!["deep/er/shot_0001.exr".to_string()], "mirrored tree");
}

#[test]
fn temporal_frames_that_land_late_come_out_as_one_denoise_run_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    let (renders, out, batch) = (dir.path().join("renders"), dir.path().join("out"), dir.path().join("batch"));
    fs::create_dir(&renders).unwrap();
    let names = frame_names(4);
    let drop = |n: &str| drop_frame(&renders.join(n), &fs::read(fixture("sequence").join(n)).unwrap());
    // Frames 3 and 4 first (another render node), the service stops; then 1 and 2 land.
    for n in &names[2..] {
        drop(n);
    }
    let watch = || watch_once(&[p(&renders), "--out-dir", p(&out), "--preset", "blender-cycles-temporal"]);
    let first = watch();
    assert!(first.status.success(), "{}", text(&first));
    for n in &names[..2] {
        drop(n);
    }
    let t = text(&watch());
    let done: Vec<&str> = t.lines().filter(|l| is("done")(l)).collect();
    assert_eq!(done.len(), 4, "1 and 2, then 3 and 4 again with them in their window: {t}");

    let pattern = renders.join("shot_####.exr");
    let o = latentforge(&["denoise", p(&pattern), "--out-dir", p(&batch), "--temporal"]);
    assert!(o.status.success(), "{}", text(&o));
    for n in &names {
        assert!(
            fs::read(out.join(n)).unwrap() == fs::read(batch.join(n)).unwrap(),
            "{n} differs from denoise --temporal"
        );
    }
}
