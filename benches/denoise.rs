//! `cargo xtask bench denoise`: our denoiser at each `--quality` and Intel OIDN (pyoidn, quality
//! high and fast) on the same 1920x1080 frame with albedo and normal, in one run; then the
//! `latentforge denoise` command end to end on that frame and on a sequence of 20 frames.
//!
//! Every measurement runs in its own process (this benchmark re-runs itself with `--child`), so
//! each peak resident memory is that configuration's own. The configurations take turns, round
//! after round (`--rounds N`, default 3), so a slow spell of the machine hits all of them; each
//! prints the median over the rounds and the spread (lowest to highest).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use latentforge::denoise::{DenoiseOptions, Denoiser, Quality};
use latentforge::infer::ModelStore;
use latentforge::io::frame::{self, Encoding, FileFormat, Frame};
use latentforge::{Device, Runtime, RuntimeOptions};

const WIDTH: usize = 1920;
const HEIGHT: usize = 1080;
/// Ours: (label, quality, --max-memory in MiB). The default budget runs a Full HD frame in two
/// tiles; 3000 MiB runs it whole.
const OURS: [(&str, &str, u64); 4] = [
    ("latentforge --quality fast", "fast", 2048),
    ("latentforge --quality balanced", "balanced", 2048),
    ("latentforge --quality high", "high", 2048),
    ("latentforge --quality high --max-memory 3000", "high", 3000),
];
/// Frames of the end-to-end sequence.
const SEQUENCE: usize = 20;

/// One configuration's figures over the rounds.
struct Figures {
    label: String,
    ms_per_mp: Vec<f64>,
    peak_mb: f64,
}

impl Figures {
    fn median(&self) -> f64 {
        let mut v = self.ms_per_mp.clone();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    fn spread(&self) -> (f64, f64) {
        let min = self.ms_per_mp.iter().copied().fold(f64::INFINITY, f64::min);
        (min, self.ms_per_mp.iter().copied().fold(0.0, f64::max))
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.windows(2).find(|w| w[0] == name).map(|w| w[1].clone());
    let device: Device = flag("--device").unwrap_or_else(|| "cpu".into()).parse().expect("--device cpu|cuda");
    let frames: usize = flag("--frames").map(|v| v.parse().expect("--frames N")).unwrap_or(1);
    let rounds: usize = flag("--rounds").map(|v| v.parse().expect("--rounds N")).unwrap_or(3);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if let Some(quality) = flag("--child") {
        let memory = flag("--max-memory").map(|v| v.parse().expect("--max-memory MiB")).unwrap_or(2048);
        return child(&root, device, frames, &quality, memory);
    }

    let frame = full_hd_frame(&root.join("models/samples/sample_01_4spp.exr"));
    if let Some(dir) = flag("--write-inputs") {
        // The frame this benchmark denoises, as files `latentforge denoise --timings` can read:
        // frame.pfm with its side files frame_albedo.pfm and frame_normal.pfm.
        write_inputs(&frame, Path::new(&dir), "frame");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let files = write_inputs(&frame, dir.path(), "color");
    let python = std::env::var("LATENTFORGE_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let exe = std::env::current_exe().expect("own path");

    let mut figures: Vec<Figures> = OURS
        .iter()
        .map(|(l, ..)| l.to_string())
        .chain(["Intel OIDN 2.5 via pyoidn, high".into(), "Intel OIDN 2.5 via pyoidn, fast".into()])
        .map(|label| Figures { label, ms_per_mp: Vec::new(), peak_mb: 0.0 })
        .collect();
    for round in 0..rounds {
        eprintln!("round {} of {rounds}", round + 1);
        for (k, (_, quality, memory)) in OURS.iter().enumerate() {
            let out = Command::new(&exe)
                .args(["--child", quality, "--device", &device.to_string(), "--frames", &frames.to_string()])
                .args(["--max-memory", &memory.to_string()])
                .output()
                .expect("re-run the benchmark as a child");
            assert!(out.status.success(), "ours at {quality} failed: {}", String::from_utf8_lossy(&out.stderr));
            record(&mut figures[k], &String::from_utf8_lossy(&out.stdout));
        }
        for (k, quality) in ["high", "fast"].iter().enumerate() {
            let out = Command::new(&python)
                .arg(root.join("models/train/denoise/bench_oidn.py"))
                .args(&files)
                .arg(frames.to_string())
                .arg(if device == Device::Cuda { "cuda" } else { "cpu" })
                .arg(quality)
                .output()
                .expect("run the pyoidn baseline (cargo xtask bench sets up its Python)");
            assert!(out.status.success(), "pyoidn baseline failed: {}", String::from_utf8_lossy(&out.stderr));
            record(&mut figures[OURS.len() + k], &String::from_utf8_lossy(&out.stdout));
        }
    }
    let end_to_end = std::env::var_os("LATENTFORGE_BENCH_CLI")
        .map(|cli| end_to_end(Path::new(&cli), dir.path(), &files, rounds, device));

    println!("denoise benchmark: {WIDTH}x{HEIGHT} with albedo+normal, device {device}, {rounds} rounds taking turns");
    println!("{:<72} {:>10} {:>19} {:>10}", "", "ms / MPix", "spread", "peak MiB");
    for f in figures.iter().chain(end_to_end.iter().flatten()) {
        let (lo, hi) = f.spread();
        let peak = if f.peak_mb > 0.0 { format!("{:.0}", f.peak_mb) } else { "-".into() };
        println!("{:<72} {:>10.1} {:>9.1} - {:<7.1} {:>10}", f.label, f.median(), lo, hi, peak);
    }
    let oidn_high = &figures[OURS.len()];
    let ratio = |f: &Figures| f.median() / oidn_high.median();
    println!(
        "ratio to OIDN high (time): ours high {:.2}x (whole frame in memory {:.2}x), balanced {:.2}x; memory {:.2}x / {:.2}x",
        ratio(&figures[2]),
        ratio(&figures[3]),
        ratio(&figures[1]),
        figures[2].peak_mb / oidn_high.peak_mb,
        figures[3].peak_mb / oidn_high.peak_mb
    );
    println!(
        "ratio ours / OIDN fast: {:.2}x time, {:.2}x memory",
        figures[0].median() / figures[OURS.len() + 1].median(),
        figures[0].peak_mb / figures[OURS.len() + 1].peak_mb
    );
    if let Some(e2e) = &end_to_end {
        for f in e2e {
            println!("ratio to OIDN high (time): {} {:.2}x", f.label, ratio(f));
        }
    }
    let json: Vec<String> = figures
        .iter()
        .chain(end_to_end.iter().flatten())
        .map(|f| {
            let (lo, hi) = f.spread();
            format!(
                "{{\"label\": \"{}\", \"ms_per_mp\": {:.2}, \"min\": {lo:.2}, \"max\": {hi:.2}, \"peak_rss_mb\": {:.0}}}",
                f.label,
                f.median(),
                f.peak_mb
            )
        })
        .collect();
    let record = root.join(format!(".work/bench-denoise-{device}.json"));
    if std::fs::create_dir_all(record.parent().unwrap()).is_ok() {
        let _ = std::fs::write(&record, format!("[{}]\n", json.join(",\n ")));
    }
}

/// `frame` as `{stem}.pfm` with its `_albedo`/`_normal` side files in `dir`.
fn write_inputs(frame: &Frame, dir: &Path, stem: &str) -> [PathBuf; 3] {
    let write = |name: String, data: &[f32]| {
        let path = dir.join(name);
        let f = Frame::new_rgb(WIDTH, HEIGHT, data.to_vec(), Encoding::Linear, FileFormat::Pfm);
        frame::write_frame_atomic(&f, &path).expect("writing the frame");
        path
    };
    [
        write(format!("{stem}.pfm"), &frame.color),
        write(format!("{stem}_albedo.pfm"), frame.albedo.as_ref().unwrap()),
        write(format!("{stem}_normal.pfm"), frame.normal.as_ref().unwrap()),
    ]
}

/// The command end to end (process start, reading, writing included): one frame, then a sequence
/// of [`SEQUENCE`] frames in one process (reading and writing overlap inference), per frame.
fn end_to_end(cli: &Path, dir: &Path, files: &[PathBuf; 3], rounds: usize, device: Device) -> Vec<Figures> {
    let seq = dir.join("sequence");
    std::fs::create_dir_all(&seq).unwrap();
    let mut inputs = Vec::new();
    for k in 1..=SEQUENCE {
        for (file, side) in files.iter().zip(["", "_albedo", "_normal"]) {
            std::os::unix::fs::symlink(file, seq.join(format!("shot_{k:04}{side}.pfm"))).unwrap();
        }
        inputs.push(seq.join(format!("shot_{k:04}.pfm")));
    }
    let mp = (WIDTH * HEIGHT) as f64 / 1e6;
    let mut single = Figures {
        label: "latentforge denoise --quality high, one frame, end to end".into(),
        ms_per_mp: vec![],
        peak_mb: 0.0,
    };
    let mut sequence = Figures {
        label: format!("latentforge denoise --quality high, {SEQUENCE} frames, end to end, per frame"),
        ms_per_mp: vec![],
        peak_mb: 0.0,
    };
    for _ in 0..rounds {
        let out = dir.join("out");
        let _ = std::fs::remove_dir_all(&out);
        let run = |frames: &[PathBuf]| {
            let t = Instant::now();
            let status = Command::new(cli)
                .args(["--quiet", "--device", &device.to_string(), "denoise", "--quality", "high", "--out-dir"])
                .arg(&out)
                .args(frames)
                .status()
                .expect("run latentforge");
            assert!(status.success(), "latentforge denoise failed");
            t.elapsed().as_secs_f64() * 1000.0 / frames.len() as f64 / mp
        };
        single.ms_per_mp.push(run(&files[..1]));
        sequence.ms_per_mp.push(run(&inputs));
    }
    vec![single, sequence]
}

/// Runs ours at one quality and prints `{"ms_per_mp": .., "peak_rss_mb": .., "model": ..}`.
fn child(root: &Path, device: Device, runs: usize, quality: &str, max_memory_mib: u64) {
    let quality = match quality {
        "fast" => Quality::Fast,
        "balanced" => Quality::Balanced,
        "high" => Quality::High,
        other => panic!("--child fast|balanced|high, not {other}"),
    };
    let frame = full_hd_frame(&root.join("models/samples/sample_01_4spp.exr"));
    let rt = Arc::new(
        Runtime::new(RuntimeOptions { device, ..Default::default() }).expect("ONNX Runtime: run cargo xtask setup"),
    );
    let denoiser = Denoiser::new(rt, ModelStore::locate(None).expect("models folder"));
    let opts = DenoiseOptions { quality, max_memory: max_memory_mib << 20, ..Default::default() };
    let warm = denoiser.denoise_frame(&frame, &opts, Path::new("bench")).expect("warm-up run");
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let done = denoiser.denoise_frame(&frame, &opts, Path::new("bench")).expect("bench run");
        times.push(t.elapsed().as_secs_f64());
        assert!(done.color.iter().all(|v| v.is_finite()));
    }
    times.sort_by(f64::total_cmp);
    let ms = 1000.0 * times[times.len() / 2] / ((WIDTH * HEIGHT) as f64 / 1e6);
    println!(
        "{{\"ms_per_mp\": {ms:.2}, \"peak_rss_mb\": {:.0}, \"model\": \"{} on {}, {} tile{}\"}}",
        peak_rss_mb(),
        warm.model,
        warm.device,
        warm.tiles,
        if warm.tiles == 1 { "" } else { "s" }
    );
}

/// Adds a child's JSON line (`ms_per_mp`, `peak_rss_mb`, ours also `model`) to its figures.
fn record(figures: &mut Figures, line: &str) {
    let field = |key: &str| -> Option<&str> {
        let at = line.find(&format!("\"{key}\": "))? + key.len() + 4;
        Some(line[at..].split([',', '}']).next()?.trim())
    };
    let number = |key: &str| field(key).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{key} in {line}"));
    if let Some(m) = field("model") {
        let with_model = format!(" ({})", m.trim_matches('"'));
        if !figures.label.ends_with(&with_model) {
            figures.label += &with_model;
        }
    }
    figures.ms_per_mp.push(number("ms_per_mp"));
    figures.peak_mb = figures.peak_mb.max(number("peak_rss_mb"));
}

/// The 320x180 sample repeated 6x6 times: a Full HD frame with real render noise and passes.
fn full_hd_frame(sample: &Path) -> Frame {
    frame::read_frame(sample, &Default::default()).expect("models/samples frame").repeated(WIDTH, HEIGHT)
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
