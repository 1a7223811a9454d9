//! `cargo xtask bench watch`: the watch service against a plain batch `latentforge denoise` of the
//! same frames, in one run, through the real binary.
//!
//! 1. Throughput: FRAMES frames of 960x540 (multilayer EXR with Blender's passes, cut from the
//!    committed sample render) through `denoise 'shot_####.exr'` and through `watch --once`:
//!    frames/s of each and the ratio.
//! 2. Latency: the service running with the default preset (`generic`, settle 250 ms), frames
//!    dropped one at a time (written under a temporary name, renamed into place); the time from
//!    the rename to the output existing, and that minus the model's own time for the frame (the
//!    service's `infer_ms`): the median of each.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use latentforge::io::frame::{self, ExrChannel};

const WIDTH: usize = 960;
const HEIGHT: usize = 540;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.windows(2).find(|w| w[0] == name).map(|w| w[1].clone());
    let frames: usize = flag("--frames").map(|v| v.parse().expect("--frames N")).unwrap_or(200);
    let drops: usize = flag("--drops").map(|v| v.parse().expect("--drops N")).unwrap_or(12);
    let exe = env!("CARGO_BIN_EXE_latentforge");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let bytes = frame_bytes(&root.join("models/samples/sample_01_4spp.exr"));
    let dir = tempfile::tempdir().expect("temp dir");
    let renders = dir.path().join("renders");
    fs::create_dir(&renders).unwrap();
    for i in 1..=frames {
        fs::write(renders.join(format!("shot_{i:04}.exr")), &bytes).unwrap();
    }
    println!("{frames} frames of {WIDTH}x{HEIGHT} (multilayer EXR, colour + albedo + normal), CPU");

    let t = Instant::now();
    run(Command::new(exe)
        .arg("denoise")
        .arg(renders.join("shot_####.exr"))
        .arg("--out-dir")
        .arg(dir.path().join("batch"))
        .arg("--quiet"));
    let batch_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    run(Command::new(exe)
        .arg("watch")
        .arg(&renders)
        .arg("--out-dir")
        .arg(dir.path().join("watched"))
        .args(["--once", "--quiet"]));
    let watch_s = t.elapsed().as_secs_f64();
    let (batch_fps, watch_fps) = (frames as f64 / batch_s, frames as f64 / watch_s);
    println!("denoise (batch):  {batch_s:7.1} s  {batch_fps:.3} frames/s");
    println!("watch --once:     {watch_s:7.1} s  {watch_fps:.3} frames/s");
    println!("watch / denoise throughput: {:.2}x", watch_fps / batch_fps);

    // Latency: frames dropped into a watched folder one by one.
    let live = dir.path().join("live");
    let live_out = dir.path().join("live_out");
    fs::create_dir(&live).unwrap();
    let mut child = Command::new(exe)
        .arg("watch")
        .arg(&live)
        .arg("--out-dir")
        .arg(&live_out)
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting latentforge watch");
    let (tx, events) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    wait_event(&events, "started");
    let (mut total, mut added) = (Vec::new(), Vec::new());
    for i in 1..=drops {
        let name = format!("shot_{i:04}.exr");
        let tmp = live.join(format!(".{name}.tmp"));
        fs::write(&tmp, &bytes).unwrap();
        fs::rename(&tmp, live.join(&name)).unwrap();
        let complete = Instant::now();
        let out = live_out.join(&name);
        while !out.exists() {
            assert!(complete.elapsed() < Duration::from_secs(120), "{name} was not denoised");
            std::thread::sleep(Duration::from_millis(2));
        }
        let latency = complete.elapsed().as_secs_f64();
        let done = wait_event(&events, "done");
        let infer_ms: f64 = json_number(&done, "infer_ms");
        total.push(latency);
        added.push(latency - infer_ms / 1000.0);
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    child.wait().unwrap();
    println!(
        "latency (frame complete -> output exists), median of {drops}: {:.3} s, of which beyond the model's own time: {:.3} s",
        median(&mut total),
        median(&mut added)
    );
}

fn run(cmd: &mut Command) {
    let status = cmd.status().expect("running latentforge");
    assert!(status.success(), "{cmd:?} failed: {status}");
}

fn wait_event(events: &mpsc::Receiver<String>, kind: &str) -> String {
    let tag = format!(r#""event":"{kind}""#);
    loop {
        let line = events.recv_timeout(Duration::from_secs(120)).unwrap_or_else(|_| panic!("no {kind} event"));
        if line.contains(&tag) {
            return line;
        }
    }
}

fn json_number(line: &str, key: &str) -> f64 {
    let at = line.find(&format!(r#""{key}":"#)).unwrap_or_else(|| panic!("{key} missing in {line}")) + key.len() + 3;
    line[at..].split([',', '}']).next().unwrap().parse().unwrap()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A 960x540 multilayer EXR with every pass of the sample render, tiled to size.
fn frame_bytes(sample: &Path) -> Vec<u8> {
    let src = frame::read_frame(sample, &Default::default()).expect("models/samples frame");
    let channels: Vec<ExrChannel> = src
        .exr_channels
        .iter()
        .map(|c| ExrChannel {
            name: c.name.clone(),
            half: c.half,
            data: (0..WIDTH * HEIGHT)
                .map(|i| c.data[(i / WIDTH % src.height) * src.width + i % WIDTH % src.width])
                .collect(),
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("frame.exr");
    frame::write_exr_channels(&path, WIDTH, HEIGHT, &channels).unwrap();
    fs::read(path).unwrap()
}
