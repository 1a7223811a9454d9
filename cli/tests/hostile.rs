//! Damaged files from other people's machines: a Blender EXR whose header claims 100000 x 100000
//! pixels is refused by `denoise` at once in little memory, and `watch --once` records it failed
//! (once, without retrying) while the good frames beside it are denoised.

use std::fs;
use std::process::Command;

use latentforge::io::frame;

mod common;
use common::{fixture, measured, p};

/// The committed 8 spp render with its `dataWindow` patched to claim 100000 x 100000 pixels.
fn damaged_exr() -> Vec<u8> {
    let mut bytes = fs::read(fixture("noisy_8spp.exr")).unwrap();
    let key = b"dataWindow\0box2i\0";
    let at = bytes.windows(key.len()).position(|w| w == key).expect("a dataWindow attribute") + key.len() + 4;
    for (i, v) in [0i32, 0, 99_999, 99_999].into_iter().enumerate() {
        bytes[at + 4 * i..at + 4 * i + 4].copy_from_slice(&v.to_le_bytes());
    }
    bytes
}

/// A damaged frame is refused in under a second of CPU and well under 100 MB.
const REFUSE_CPU_S: f64 = 1.0;
const REFUSE_PEAK_MIB: f64 = 100.0;
/// `watch --once` over two small good frames and a damaged one (93 MiB measured; ONNX Runtime
/// with the network is most of it).
const WATCH_PEAK_MIB: f64 = 200.0;

#[test]
fn denoise_refuses_a_damaged_exr_header_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("frame.exr");
    fs::write(&bad, damaged_exr()).unwrap();
    let m = measured(Command::new(env!("CARGO_BIN_EXE_latentforge")).args([
        "denoise",
        p(&bad),
        "--out-dir",
        p(&dir.path().join("out")),
        "--threads",
        "2",
    ]));
    assert_eq!(m.code, Some(1), "{}", m.text);
    let want =
        "frame.exr: header claims 100000x100000 (10 G pixels), over the 268 M pixel limit (--max-pixels raises it)";
    assert!(m.text.contains(want), "{}", m.text);
    assert!(m.cpu_s < REFUSE_CPU_S, "refusing took {:.2} s of CPU", m.cpu_s);
    assert!(m.peak_mib < REFUSE_PEAK_MIB, "refusing peaked at {:.0} MiB", m.peak_mib);
    assert!(!dir.path().join("out").exists() || fs::read_dir(dir.path().join("out")).unwrap().next().is_none());

    // --max-pixels lowers (or raises) the limit: the committed 128x96 frame is over 10000.
    let m = measured(Command::new(env!("CARGO_BIN_EXE_latentforge")).args([
        "denoise",
        p(&fixture("noisy_8spp.exr")),
        "-o",
        p(&dir.path().join("small.exr")),
        "--max-pixels",
        "10000",
    ]));
    assert!(m.code == Some(1) && m.text.contains("over the 10000 pixel limit"), "{}", m.text);
}

#[test]
fn watch_records_a_damaged_frame_failed_and_denoises_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (renders, out) = (dir.path().join("renders"), dir.path().join("out"));
    fs::create_dir(&renders).unwrap();
    let good = fs::read(fixture("noisy_8spp.exr")).unwrap();
    fs::write(renders.join("shot_0001.exr"), &good).unwrap();
    fs::write(renders.join("shot_0002.exr"), damaged_exr()).unwrap();
    fs::write(renders.join("shot_0003.exr"), &good).unwrap();
    let m = measured(Command::new(env!("CARGO_BIN_EXE_latentforge")).args([
        "watch",
        p(&renders),
        "--out-dir",
        p(&out),
        "--once",
        "--json",
        "--attempts",
        "3",
        "--threads",
        "2",
    ]));
    assert_eq!(m.code, Some(1), "--once with a failure exits 1: {}", m.text);
    for name in ["shot_0001.exr", "shot_0003.exr"] {
        frame::read_frame(&out.join(name), &Default::default()).unwrap_or_else(|e| panic!("{name}: {e}\n{}", m.text));
    }
    assert!(!out.join("shot_0002.exr").exists());
    let failed: Vec<&str> = m.text.lines().filter(|l| l.contains(r#""event":"failed""#)).collect();
    assert_eq!(failed.len(), 1, "{}", m.text);
    assert!(failed[0].contains("shot_0002.exr") && failed[0].contains("header claims 100000x100000"), "{}", m.text);
    assert!(!m.text.contains(r#""event":"retry""#), "an over-limit frame is not retried: {}", m.text);
    assert!(m.peak_mib < WATCH_PEAK_MIB, "watch peaked at {:.0} MiB", m.peak_mib);
    println!("watch --once peak {:.0} MiB, {:.2} s CPU", m.peak_mib, m.cpu_s);

    let status = Command::new(env!("CARGO_BIN_EXE_latentforge")).args(["watch", "status", p(&out)]).output().unwrap();
    let s = String::from_utf8_lossy(&status.stdout);
    assert!(s.contains("2 done, 1 failed, 0 pending") && s.contains("shot_0002.exr (1 try)"), "{s}");
}
