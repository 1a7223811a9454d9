//! What front ends (the Blender add-on) rely on: `--json` events of `upscale`, `texture maps` and
//! `denoise`, and SIGTERM stopping a command with nothing half-written.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{fixture, latentforge, p, text};
use serde_json::Value;

fn events(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect()
}

fn kinds(events: &[Value], kind: &str) -> Vec<Value> {
    events.iter().filter(|e| e["event"] == kind).cloned().collect()
}

#[test]
fn maps_and_upscale_print_one_event_per_line_with_each_file_and_its_kind() {
    let dir = tempfile::tempdir().unwrap();
    let colour = fixture("materials/stone_tiles/stone_tiles_Color.png");
    let out = dir.path().join("maps");
    let o = latentforge(&["texture", "maps", p(&colour), "--method", "heuristic", "--out-dir", p(&out), "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let ev = events(&o.stdout);
    assert_eq!(ev.first().unwrap()["event"], "started", "{ev:?}");
    assert_eq!(ev.last().unwrap()["event"], "done", "{ev:?}");
    let files = kinds(&ev, "file");
    let got: Vec<&str> = files.iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(got, ["height", "normal_gl", "roughness"]);
    for f in &files {
        assert!(Path::new(f["file"].as_str().unwrap()).is_file(), "{f}");
        assert_eq!(f["input"], p(&colour));
    }
    assert_eq!(kinds(&ev, "progress").last().unwrap()["done"], 1);

    let normal = fixture("materials/stone_tiles/stone_tiles_Normal.png");
    let up = dir.path().join("up");
    let args = ["upscale", p(&normal), "--scale", "2", "--method", "bicubic", "--out-dir", p(&up), "--json"];
    let o = latentforge(&args);
    assert!(o.status.success(), "{}", text(&o));
    let ev = events(&o.stdout);
    let files = kinds(&ev, "file");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["kind"], "normal_gl", "the kind comes from the file's name");
    assert!(Path::new(files[0]["file"].as_str().unwrap()).is_file());
}

#[test]
fn a_failed_input_is_an_error_event_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad_Color.png");
    std::fs::write(&bad, b"not a png").unwrap();
    let out = dir.path().join("up");
    let o = latentforge(&["upscale", p(&bad), "--scale", "2", "--method", "bicubic", "--out-dir", p(&out), "--json"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let ev = events(&o.stdout);
    let errors = kinds(&ev, "error");
    assert_eq!(errors.len(), 1, "{ev:?}");
    assert_eq!(errors[0]["input"], p(&bad));
    assert!(errors[0]["message"].as_str().unwrap().contains("bad_Color.png"), "{}", errors[0]);
    assert!(kinds(&ev, "done").is_empty());
}

#[test]
fn sigterm_stops_a_command_with_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    // Big enough that the network upscale is still running when the signal comes.
    let big = dir.path().join("big_Color.png");
    let noise = image::RgbImage::from_fn(1024, 1024, |x, y| {
        let v = (x.wrapping_mul(2654435761) ^ y.wrapping_mul(40503)) as u8;
        image::Rgb([v, v.wrapping_mul(3), v.wrapping_add(77)])
    });
    noise.save(&big).unwrap();
    let out = dir.path().join("up");
    let mut child = Command::new(env!("CARGO_BIN_EXE_latentforge"))
        .args(["upscale", p(&big), "--scale", "4", "--out-dir", p(&out), "--json", "--threads", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Readiness: the first heartbeat says the input is being worked on.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let working = lines.by_ref().map_while(Result::ok).find(|l| l.contains("\"progress\""));
    assert!(working.is_some(), "no progress event before the command ended");
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143), "SIGTERM exits 128 + 15: {status:?}");
    let left: Vec<_> = std::fs::read_dir(&out).map(|d| d.map(|e| e.unwrap().file_name()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "files left in the output folder: {left:?}");
}

#[test]
fn denoise_json_counts_its_frames_in_progress_events() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dn");
    let frame = fixture("noisy_8spp.exr");
    let o = latentforge(&["denoise", p(&frame), "--out-dir", p(&out), "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let ev = events(&o.stdout);
    let progress = kinds(&ev, "progress");
    let last = progress.last().unwrap_or_else(|| panic!("no progress event: {ev:?}"));
    assert_eq!((&last["done"], &last["total"]), (&Value::from(1), &Value::from(1)), "{ev:?}");
    assert_eq!(last["input"], p(&frame));
    let written = ev.iter().find(|e| e.get("output").is_some()).unwrap_or_else(|| panic!("no output line: {ev:?}"));
    assert!(Path::new(written["output"].as_str().unwrap()).is_file());
}
