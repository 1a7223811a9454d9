//! `cargo xtask bench groove`: the cost of Latent Groove's audio thread and of its worker.
//!
//! - `process()` of the bundled `.clap`, called through a real CLAP host (the same clack-host
//!   harness as the tests) with the transport playing at 120 BPM, 48 kHz, pattern and kit loaded:
//!   p50 / p99 / max over 10 000 blocks of 64 and of 512 samples, each as a fraction of the
//!   block's duration (the real-time budget, measured in the same run); with the editor closed,
//!   open (embedded in an Xvfb window, repainting as the playhead moves) and closed again, so the
//!   two closed runs show the noise.
//! - On the worker's terms (ONNX Runtime, 1 intra-op thread): time to decode a new pattern and
//!   to generate a new kit.
//!
//! Results: printed, and written to .work/bench-groove.json.

#[path = "../tests/host/mod.rs"]
mod host;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use latentforge::drums::{DrumModel, KitKnobs};
use latentforge::groove::{GrooveKnobs, GrooveModel, GrooveUse};
use latentforge::infer::ModelStore;
use latentforge::infer::{Device, Runtime, RuntimeOptions};
use x11rb::connection::Connection;

const BLOCKS: usize = 10_000;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// p50, p99 and max of `process()` over BLOCKS blocks of `frames`, as fractions of the block's
/// duration; with the editor embedded in `editor_parent` when given.
fn process_costs(clap: &Path, frames: usize, editor_parent: Option<u32>) -> (f64, f64, f64) {
    let mut s = host::Session::open(clap);
    s.warm_up();
    let gui = editor_parent.map(|parent| host::display::open_editor(&mut s, parent));
    s.play_from_start();
    s.frames = frames;
    let budget = frames as f64 / host::RATE;
    let mut fractions = Vec::with_capacity(BLOCKS);
    for _ in 0..BLOCKS {
        // The editor's window thread asks for main-thread calls; a host answers between blocks.
        s.pump();
        s.block();
        fractions.push(s.last_process.as_secs_f64() / budget);
    }
    assert!(s.audio.iter().any(|v| *v != 0.0), "the benchmark must play sound");
    fractions.sort_by(|a, b| a.total_cmp(b));
    if let Some(gui) = gui {
        gui.destroy(&s.instance.plugin_handle());
    }
    s.close();
    (percentile(&fractions, 0.5), percentile(&fractions, 0.99), *fractions.last().unwrap())
}

fn median_time(mut f: impl FnMut(), runs: usize) -> Duration {
    f();
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    t.sort();
    t[runs / 2]
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root");
    let clap = std::env::var_os("LATENT_GROOVE_CLAP")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/bundled/clap/Latent Groove/Latent Groove.clap"));
    let xvfb = host::display::Xvfb::start();
    let (conn, screen) = x11rb::connect(Some(&xvfb.display)).expect("connecting to Xvfb");
    let screen = conn.setup().roots[screen].clone();
    let (w, h) = latent_groove::editor::layout::DEFAULT_SIZE;
    let parent = host::display::parent_window(&conn, &screen, w as u16, h as u16);
    let mut rows = Vec::new();
    for frames in [64usize, 512] {
        for (editor, parent) in [("closed", None), ("open", Some(parent)), ("closed", None)] {
            let (p50, p99, max) = process_costs(&clap, frames, parent);
            println!(
                "process() {frames:>3} samples @ 48 kHz, editor {editor:<6}: p50 {:.2}%  p99 {:.2}%  max {:.2}% of the block ({:.0} us)",
                p50 * 100.0,
                p99 * 100.0,
                max * 100.0,
                frames as f64 / host::RATE * 1e6
            );
            rows.push(format!(
                "{{\"frames\": {frames}, \"editor\": \"{editor}\", \"p50\": {p50:.5}, \"p99\": {p99:.5}, \"max\": {max:.5}}}"
            ));
        }
    }
    drop(conn);
    drop(xvfb);

    let runtime = Runtime::new(RuntimeOptions { library: None, device: Device::Cpu, intra_threads: Some(1) })
        .expect("ONNX Runtime (run `cargo xtask setup`)");
    let store = ModelStore::locate(Some(&root.join("models"))).expect("models folder");
    let groove = GrooveModel::load(&runtime, &store, GrooveUse::Seeds).expect("groove model");
    let drums = DrumModel::load(&runtime, &store).expect("drum model");
    let mut seed = 0;
    let pattern = median_time(
        || {
            seed += 1;
            let knobs = GrooveKnobs { seed, ..Default::default() };
            groove.decode(&[knobs.latent(groove.spec())], knobs.take()).unwrap();
        },
        50,
    );
    let kit = median_time(
        || {
            seed += 1;
            drums.kit(&KitKnobs { seed, timbre: 0.3 }).unwrap();
        },
        10,
    );
    println!(
        "worker (1 thread): new pattern {:.1} ms, new kit (9 one-shots) {:.1} ms (medians)",
        pattern.as_secs_f64() * 1e3,
        kit.as_secs_f64() * 1e3
    );
    let json = format!(
        "{{\"blocks\": {BLOCKS}, \"sample_rate\": 48000, \"process\": [{}], \"pattern_ms\": {:.2}, \"kit_ms\": {:.2}}}\n",
        rows.join(", "), pattern.as_secs_f64() * 1e3, kit.as_secs_f64() * 1e3
    );
    let out = root.join(".work/bench-groove.json");
    let _ = std::fs::create_dir_all(out.parent().unwrap());
    std::fs::write(&out, json).expect("writing .work/bench-groove.json");
    println!("written to {}", out.display());
}
