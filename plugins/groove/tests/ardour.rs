//! The VST3 in a real DAW: headless Ardour 7 (`ardour7-lua`, "None (Dummy)" backend) loads the
//! bundled Latent Groove on a MIDI track and exports 4 bars at 120 BPM to WAV
//! (tests/ardour/export_groove.lua). The export must be non-silent and its drum onsets must sit
//! on the 16th-note grid. `cargo xtask test` installs Debian's `ardour` package first.

mod host;

use std::path::{Path, PathBuf};

use host::copy_dir;
use std::process::Command;

const RATE: usize = 48_000;
const STEP: usize = RATE * 60 / 120 / 4;

fn vst3_bundle() -> PathBuf {
    std::env::var_os("LATENT_GROOVE_VST3")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bundled/vst3/Latent Groove.vst3"))
}

/// Onsets: 2 ms frames whose energy is 3x the loudest of the previous 10 ms, at least a 32nd
/// apart, measured on the signal's first difference (a gentle high-pass): drum attacks are
/// broadband, while the low partials of a ringing kick or tom beat against each other, real kits'
/// as much as generated ones, and would look like new hits. Reported at the frame start.
fn onsets(x: &[f32]) -> Vec<usize> {
    let hop = 96;
    let diff: Vec<f32> = std::iter::once(0.0).chain(x.windows(2).map(|w| w[1] - w[0])).collect();
    let energy: Vec<f32> = diff.chunks(hop).map(|c| c.iter().map(|v| v * v).sum::<f32>() / hop as f32).collect();
    let mut out: Vec<usize> = Vec::new();
    for i in 5..energy.len() {
        let before = energy[i - 5..i].iter().cloned().fold(0.0f32, f32::max).max(1e-7);
        if energy[i] > 1e-5 && energy[i] > 3.0 * before && out.last().is_none_or(|&l| i * hop - l > STEP / 2) {
            out.push(i * hop);
        }
    }
    out
}

#[test]
fn vst3_in_headless_ardour_exports_grooves_on_the_grid() {
    let bundle = vst3_bundle();
    assert!(bundle.is_dir(), "{} is missing: run `cargo xtask bundle`", bundle.display());
    let lua = which("ardour7-lua").expect(
        "ardour7-lua not found: `cargo xtask test` installs Debian's `ardour` package (apt-get install ardour)",
    );

    // Ardour scans ~/.vst3: give it a private HOME whose .vst3 holds only this bundle.
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("home");
    let vst3 = home.join(".vst3");
    std::fs::create_dir_all(&vst3).unwrap();
    copy_dir(&bundle, &vst3.join(bundle.file_name().unwrap()));
    // Ardour trusts a scan cache only if it is newer than the plugin; a copy made the same
    // second as the scan reads as "updated" and is skipped. Date the copy an hour back.
    backdate(&vst3, std::time::SystemTime::now() - std::time::Duration::from_secs(3600));
    // Ardour lists VST3s from its scan cache; fill it the way Ardour's GUI does, with its scanner.
    let bundle_copy = vst3.join(bundle.file_name().unwrap());
    let scan = Command::new("/usr/lib/ardour7/ardour-vst3-scanner")
        .arg(&bundle_copy)
        .env("HOME", &home)
        .env("LD_LIBRARY_PATH", "/usr/lib/ardour7")
        .output()
        .expect("running Ardour's VST3 scanner (/usr/lib/ardour7/ardour-vst3-scanner)");
    let scan_log = String::from_utf8_lossy(&scan.stderr).into_owned() + &String::from_utf8_lossy(&scan.stdout);
    assert!(scan_log.contains("Found Plugin: Latent Groove"), "Ardour's scanner did not find the plugin:\n{scan_log}");
    let export = work.path().join("export");
    std::fs::create_dir_all(&export).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ardour/export_groove.lua");
    // Headless Ardour 7 now and then dies while creating the track ("Port already exists", then
    // an abort) before our plugin has processed anything; such a run is retried in a fresh
    // session, up to 3 times. A plugin that breaks the export fails every attempt.
    let mut logs = Vec::new();
    for attempt in 1..=3 {
        let session = work.path().join(format!("session{attempt}"));
        let out = Command::new(&lua)
            .arg(&script)
            .env("HOME", &home)
            .env("VST3_PATH", &vst3)
            .env("LG_SESSION_DIR", &session)
            .env("LG_EXPORT_DIR", &export)
            .output()
            .expect("running ardour7-lua");
        let log = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let done = log.contains("exported");
        logs.push(format!("attempt {attempt} (exit {:?}):\n{log}", out.status.code()));
        if done {
            break;
        }
    }
    let log = logs.join("\n");
    assert!(logs.last().is_some_and(|l| l.contains("exported")), "ardour7-lua did not export:\n{log}");
    if logs.len() > 1 {
        eprintln!("Ardour needed {} attempts:\n{log}", logs.len());
    }

    let wav = std::fs::read_dir(&export)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "wav"))
        .unwrap_or_else(|| panic!("no WAV in {}:\n{log}", export.display()));
    let mut reader = hound::WavReader::open(&wav).unwrap();
    let spec = reader.spec();
    assert_eq!(spec.sample_rate as usize, RATE);
    let ch = spec.channels as usize;
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().map(|s| s.unwrap()).collect(),
        hound::SampleFormat::Int => {
            let scale = (1i64 << (spec.bits_per_sample - 1)) as f32;
            reader.samples::<i32>().map(|s| s.unwrap() as f32 / scale).collect()
        }
    };
    let left: Vec<f32> = samples.chunks(ch).map(|f| f[0]).collect();
    assert!(left.len() >= 4 * 16 * STEP - RATE / 10, "4 bars exported, got {} samples", left.len());
    let peak = left.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(peak > 0.01, "export is silent (peak {peak})");
    assert!(left.iter().all(|v| v.is_finite()));

    let found = onsets(&left);
    assert!(found.len() >= 8, "too few onsets: {found:?}");
    let off: Vec<(usize, i64)> =
        found.iter().map(|&o| (o, o as i64 - ((o as f64 / STEP as f64).round() as i64 * STEP as i64))).collect();
    // Within two detector frames (4 ms) of a 16th line: a hit whose attack takes a few ms crosses
    // the 3x threshold a frame after it starts; a timing fault is a 32nd (3000 samples) or more.
    let bad: Vec<_> = off.iter().filter(|(_, d)| d.abs() > 192).collect();
    assert!(bad.is_empty(), "onsets off the grid (sample, distance): {bad:?} of {off:?}");
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

fn backdate(path: &Path, when: std::time::SystemTime) {
    if path.is_dir() {
        for e in std::fs::read_dir(path).unwrap() {
            backdate(&e.unwrap().path(), when);
        }
    }
    let f = std::fs::File::open(path).unwrap();
    f.set_times(std::fs::FileTimes::new().set_modified(when).set_accessed(when))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
