//! `cargo xtask bench denoise`: our denoiser and Intel OIDN (pyoidn) on the same 1920x1080 frame
//! with albedo and normal, in one run. Prints ms per megapixel, the ratio and peak memory.
//!
//! Each side runs in its own process so peak resident memory is each one's own.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use latentforge::denoise::{DenoiseOptions, Denoiser};
use latentforge::infer::ModelStore;
use latentforge::io::frame::{self, Encoding, FileFormat, Frame};
use latentforge::{Device, Runtime, RuntimeOptions};

const WIDTH: usize = 1920;
const HEIGHT: usize = 1080;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.windows(2).find(|w| w[0] == name).map(|w| w[1].clone());
    let device: Device = flag("--device").unwrap_or_else(|| "cpu".into()).parse().expect("--device cpu|cuda");
    let runs: usize = flag("--frames").map(|v| v.parse().expect("--frames N")).unwrap_or(3);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let frame = full_hd_frame(&root.join("models/samples/sample_01_4spp.exr"));

    let rt = Arc::new(
        Runtime::new(RuntimeOptions { device, ..Default::default() }).expect("ONNX Runtime: run cargo xtask setup"),
    );
    let denoiser = Denoiser::new(rt, ModelStore::locate(None).expect("models folder"));
    let opts = DenoiseOptions::default();
    let warm = denoiser.denoise_frame(&frame, &opts, Path::new("bench")).expect("warm-up run");
    let (model, used) = (warm.model, warm.device);
    let mut times = Vec::new();
    let mut tiles = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let done = denoiser.denoise_frame(&frame, &opts, Path::new("bench")).expect("bench run");
        times.push(t.elapsed().as_secs_f64());
        tiles = done.tiles;
        assert!(done.color.iter().all(|v| v.is_finite()));
    }
    times.sort_by(f64::total_cmp);
    let mp = (WIDTH * HEIGHT) as f64 / 1e6;
    let ours_ms = 1000.0 * times[times.len() / 2] / mp;
    let ours_peak = peak_rss_mb();

    // The same pixels for the baseline, as PFM files it reads with numpy.
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
    let python = std::env::var("LATENTFORGE_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .arg(root.join("models/train/denoise/bench_oidn.py"))
        .args(&files)
        .arg(runs.to_string())
        .arg(if used == Device::Cuda { "cuda" } else { "cpu" })
        .output()
        .expect("run the pyoidn baseline (cargo xtask bench sets up its Python)");
    if !out.status.success() {
        panic!("pyoidn baseline failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let field = |key: &str| -> f64 {
        let at =
            line.find(&format!("\"{key}\": ")).unwrap_or_else(|| panic!("{key} missing in {line}")) + key.len() + 4;
        line[at..].split([',', '}']).next().unwrap().trim().parse().unwrap()
    };
    let (oidn_ms, oidn_peak) = (field("ms_per_mp"), field("peak_rss_mb"));

    println!("denoise benchmark: {WIDTH}x{HEIGHT} with albedo+normal, median of {runs} runs, device {used}");
    println!("{:<28} {:>12} {:>16}", "", "ms / MPix", "peak RSS (MiB)");
    println!(
        "{:<28} {:>12.1} {:>16.0}",
        format!("latentforge ({model}, {tiles} tile{})", if tiles == 1 { "" } else { "s" }),
        ours_ms,
        ours_peak
    );
    println!("{:<28} {:>12.1} {:>16.0}", "Intel OIDN 2.x (high)", oidn_ms, oidn_peak);
    println!("ratio latentforge / OIDN: {:.2}x time, {:.2}x memory", ours_ms / oidn_ms, ours_peak / oidn_peak);
    let json = format!(
        "{{\"device\": \"{used}\", \"width\": {WIDTH}, \"height\": {HEIGHT}, \"runs\": {runs}, \"ours_ms_per_mp\": {ours_ms:.2}, \"ours_peak_rss_mb\": {ours_peak:.0}, \"oidn_ms_per_mp\": {oidn_ms:.2}, \"oidn_peak_rss_mb\": {oidn_peak:.0}}}\n"
    );
    let record = root.join(format!(".work/bench-denoise-{used}.json"));
    if std::fs::create_dir_all(record.parent().unwrap()).is_ok() {
        let _ = std::fs::write(&record, json);
    }
}

/// The 320x180 sample repeated 6x6 times: a Full HD frame with real render noise and passes.
fn full_hd_frame(sample: &Path) -> Frame {
    let s = frame::read_frame(sample).expect("models/samples frame");
    let tile = |src: &[f32]| -> Vec<f32> {
        let mut out = Vec::with_capacity(WIDTH * HEIGHT * 3);
        for y in 0..HEIGHT {
            for x in 0..WIDTH {
                let i = ((y % s.height) * s.width + x % s.width) * 3;
                out.extend_from_slice(&src[i..i + 3]);
            }
        }
        out
    };
    let mut f = Frame::new_rgb(WIDTH, HEIGHT, tile(&s.color), Encoding::Linear, FileFormat::Exr);
    f.albedo = s.albedo.as_deref().map(tile);
    f.normal = s.normal.as_deref().map(tile);
    f
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
