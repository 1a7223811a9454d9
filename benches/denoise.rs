//! `cargo xtask bench denoise`: our denoiser at each `--quality` and Intel OIDN (pyoidn, quality
//! high and fast) on the same 1920x1080 frame with albedo and normal, in one run. Prints ms per
//! megapixel and peak memory of each, and the ratios of ours to OIDN's at the same quality.
//!
//! Every measurement runs in its own process (this benchmark re-runs itself with `--child`), so
//! each peak resident memory is that configuration's own.

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
const QUALITIES: [(&str, Quality); 3] =
    [("fast", Quality::Fast), ("balanced", Quality::Balanced), ("high", Quality::High)];

/// One configuration's figures.
struct Figures {
    label: String,
    ms_per_mp: f64,
    peak_mb: f64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.windows(2).find(|w| w[0] == name).map(|w| w[1].clone());
    let device: Device = flag("--device").unwrap_or_else(|| "cpu".into()).parse().expect("--device cpu|cuda");
    let runs: usize = flag("--frames").map(|v| v.parse().expect("--frames N")).unwrap_or(3);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if let Some(quality) = flag("--child") {
        return child(&root, device, runs, &quality);
    }

    let frame = full_hd_frame(&root.join("models/samples/sample_01_4spp.exr"));
    if let Some(dir) = flag("--write-inputs") {
        // The frame this benchmark denoises, as files `latentforge denoise --timings` can read:
        // frame.pfm with its side files frame_albedo.pfm and frame_normal.pfm.
        let write = |name: &str, data: &[f32]| {
            let f = Frame::new_rgb(WIDTH, HEIGHT, data.to_vec(), Encoding::Linear, FileFormat::Pfm);
            frame::write_frame_atomic(&f, &Path::new(&dir).join(name)).expect("writing the frame");
        };
        write("frame.pfm", &frame.color);
        write("frame_albedo.pfm", frame.albedo.as_ref().unwrap());
        write("frame_normal.pfm", frame.normal.as_ref().unwrap());
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, data: &[f32]| {
        let p = dir.path().join(name);
        frame::write_frame_atomic(&Frame::new_rgb(WIDTH, HEIGHT, data.to_vec(), Encoding::Linear, FileFormat::Pfm), &p)
            .unwrap();
        p
    };
    let files = [
        write("color.pfm", &frame.color),
        write("albedo.pfm", frame.albedo.as_ref().unwrap()),
        write("normal.pfm", frame.normal.as_ref().unwrap()),
    ];

    let mut ours = Vec::new();
    for (name, _) in QUALITIES {
        let exe = std::env::current_exe().expect("own path");
        let out = Command::new(exe)
            .args(["--child", name, "--device", &device.to_string(), "--frames", &runs.to_string()])
            .output()
            .expect("re-run the benchmark as a child");
        assert!(out.status.success(), "ours at {name} failed: {}", String::from_utf8_lossy(&out.stderr));
        ours.push(parse(&format!("latentforge --quality {name}"), &String::from_utf8_lossy(&out.stdout)));
    }
    let python = std::env::var("LATENTFORGE_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut oidn = Vec::new();
    for quality in ["high", "fast"] {
        let out = Command::new(&python)
            .arg(root.join("models/train/denoise/bench_oidn.py"))
            .args(&files)
            .arg(runs.to_string())
            .arg(if device == Device::Cuda { "cuda" } else { "cpu" })
            .arg(quality)
            .output()
            .expect("run the pyoidn baseline (cargo xtask bench sets up its Python)");
        assert!(out.status.success(), "pyoidn baseline failed: {}", String::from_utf8_lossy(&out.stderr));
        oidn.push(parse(&format!("Intel OIDN 2.5 ({quality})"), &String::from_utf8_lossy(&out.stdout)));
    }

    println!("denoise benchmark: {WIDTH}x{HEIGHT} with albedo+normal, median of {runs} runs, device {device}");
    println!("{:<64} {:>12} {:>16}", "", "ms / MPix", "peak RSS (MiB)");
    for f in ours.iter().chain(&oidn) {
        println!("{:<64} {:>12.1} {:>16.0}", f.label, f.ms_per_mp, f.peak_mb);
    }
    let (high, fast) = (&ours[2], &ours[0]);
    println!(
        "ratio latentforge / OIDN: high {:.2}x time, {:.2}x memory; fast {:.2}x time, {:.2}x memory",
        high.ms_per_mp / oidn[0].ms_per_mp,
        high.peak_mb / oidn[0].peak_mb,
        fast.ms_per_mp / oidn[1].ms_per_mp,
        fast.peak_mb / oidn[1].peak_mb
    );
    let json: Vec<String> = ours
        .iter()
        .chain(&oidn)
        .map(|f| {
            format!(
                "{{\"label\": \"{}\", \"ms_per_mp\": {:.2}, \"peak_rss_mb\": {:.0}}}",
                f.label, f.ms_per_mp, f.peak_mb
            )
        })
        .collect();
    let record = root.join(format!(".work/bench-denoise-{device}.json"));
    if std::fs::create_dir_all(record.parent().unwrap()).is_ok() {
        let _ = std::fs::write(&record, format!("[{}]\n", json.join(",\n ")));
    }
}

/// Runs ours at one quality and prints `{"ms_per_mp": .., "peak_rss_mb": .., "model": ..}`.
fn child(root: &Path, device: Device, runs: usize, quality: &str) {
    let (_, quality) = QUALITIES.iter().find(|(n, _)| *n == quality).expect("--child fast|balanced|high");
    let frame = full_hd_frame(&root.join("models/samples/sample_01_4spp.exr"));
    let rt = Arc::new(
        Runtime::new(RuntimeOptions { device, ..Default::default() }).expect("ONNX Runtime: run cargo xtask setup"),
    );
    let denoiser = Denoiser::new(rt, ModelStore::locate(None).expect("models folder"));
    let opts = DenoiseOptions { quality: *quality, ..Default::default() };
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

/// Reads a child's JSON line; the model (ours) goes into the label.
fn parse(label: &str, line: &str) -> Figures {
    let field = |key: &str| -> Option<&str> {
        let at = line.find(&format!("\"{key}\": "))? + key.len() + 4;
        Some(line[at..].split([',', '}']).next()?.trim())
    };
    let number = |key: &str| field(key).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{key} in {line}"));
    let label = match field("model") {
        Some(m) => format!("{label} ({})", m.trim_matches('"')),
        None => label.to_string(),
    };
    Figures { label, ms_per_mp: number("ms_per_mp"), peak_mb: number("peak_rss_mb") }
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
