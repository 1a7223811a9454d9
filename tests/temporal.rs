//! Temporal mode on a committed Cycles sequence (tests/fixtures/sequence: 4 frames of 64x48 at
//! 4 spp with Blender's Vector pass, rendered by models/train/denoise/fixtures.py): bounded
//! windows give the same bytes whatever order or process denoises the frames, history steadies a
//! still shot, and each kind of bad input cuts the window with a warning that names it.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use latentforge::denoise::temporal::{window_of, TemporalDenoiser, TemporalParams, TemporalReport};
use latentforge::denoise::{metrics, DenoiseOptions, Denoiser};
use latentforge::infer::ModelStore;
use latentforge::io::frame::{self, Encoding, ExrChannel, FileFormat, Frame};
use latentforge::{Device, Runtime, RuntimeOptions};

const FRAMES: u64 = 4;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One runtime per test process: ONNX Runtime is initialised once.
fn runtime() -> Arc<Runtime> {
    static RT: OnceLock<Arc<Runtime>> = OnceLock::new();
    RT.get_or_init(|| {
        Arc::new(
            Runtime::new(RuntimeOptions { device: Device::Cpu, intra_threads: Some(2), ..Default::default() })
                .expect("ONNX Runtime missing: run `cargo xtask setup` or use `cargo xtask test`"),
        )
    })
    .clone()
}

fn denoiser() -> Denoiser {
    Denoiser::new(runtime(), ModelStore::locate(Some(&root().join("models"))).unwrap())
}

/// The fixture sequence copied into a fresh folder (tests change their copy).
fn sequence() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let frames = (1..=FRAMES)
        .map(|n| {
            let name = format!("shot_{n:04}.exr");
            let to = dir.path().join("in").join(&name);
            fs::create_dir_all(to.parent().unwrap()).unwrap();
            fs::copy(root().join("tests/fixtures/sequence").join(&name), &to).unwrap();
            to
        })
        .collect();
    (dir, frames)
}

fn output(dir: &Path, input: &Path, run: &str) -> PathBuf {
    let out = dir.join(run).join(input.file_name().unwrap());
    fs::create_dir_all(out.parent().unwrap()).unwrap();
    out
}

fn denoise(t: &TemporalDenoiser, input: &Path, out: &Path) -> TemporalReport {
    t.denoise_file(&window_of(input, t.params().window), out).unwrap()
}

#[test]
fn any_order_and_any_chunking_gives_the_same_bytes() {
    let (dir, frames) = sequence();
    let d = denoiser();
    let params = TemporalParams { window: 3, ..Default::default() };
    let in_order = TemporalDenoiser::new(&d, DenoiseOptions::default(), params);
    for f in &frames {
        let report = denoise(&in_order, f, &output(dir.path(), f, "order"));
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    }
    // Backwards, each frame in a fresh process-like denoiser (no cache), as farm chunks of one.
    for f in frames.iter().rev() {
        let fresh = TemporalDenoiser::new(&d, DenoiseOptions::default(), params);
        let report = denoise(&fresh, f, &output(dir.path(), f, "shuffled"));
        assert_eq!(report.frames_used, frames.iter().position(|g| g == f).unwrap().min(2) + 1);
    }
    for f in &frames {
        let a = fs::read(output(dir.path(), f, "order")).unwrap();
        let b = fs::read(output(dir.path(), f, "shuffled")).unwrap();
        assert!(a == b, "{}: outputs differ with the order of denoising", f.display());
    }
}

/// A still shot of `frames` frames: the committed 8 spp render with fresh noise multiplied into
/// each frame's colour and a zero Vector pass (the camera does not move).
fn still_shot(dir: &Path, frames: u64) -> Vec<PathBuf> {
    let base = frame::read_frame(&root().join("tests/fixtures/noisy_8spp.exr"), &Default::default()).unwrap();
    let mut seed = 0x2545_f491_u32;
    (1..=frames)
        .map(|n| {
            let mut f = base.clone();
            for v in f.color.iter_mut() {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                *v *= 0.5 + (seed >> 8) as f32 / (1u32 << 24) as f32;
            }
            for axis in ["X", "Y", "Z", "W"] {
                let name = format!("ViewLayer.Vector.{axis}");
                let data = vec![0.0; f.pixels()];
                f.exr_channels.push(ExrChannel { name, half: true, data });
            }
            let path = dir.join(format!("still_{n:04}.exr"));
            frame::write_frame_atomic(&f, &path).unwrap();
            path
        })
        .collect()
}

#[test]
fn history_steadies_a_still_shot_against_single_frames() {
    let dir = tempfile::tempdir().unwrap();
    let frames = still_shot(dir.path(), 4);
    let d = denoiser();
    let temporal = TemporalDenoiser::new(&d, DenoiseOptions::default(), TemporalParams::default());
    let single =
        TemporalDenoiser::new(&d, DenoiseOptions::default(), TemporalParams { window: 1, ..Default::default() });
    let mut change = [0.0f64; 2];
    for (k, t) in [&single, &temporal].into_iter().enumerate() {
        let outs: Vec<Frame> = frames
            .iter()
            .map(|f| {
                let out = output(dir.path(), f, &format!("run{k}"));
                denoise(t, f, &out);
                frame::read_frame(&out, &Default::default()).unwrap()
            })
            .collect();
        // Mean change of display values from frame to frame: flicker, since nothing moves.
        let d = |v: f32| metrics::display_value(v, Encoding::Linear) as f64;
        let pairs =
            outs.windows(2).flat_map(|w| w[0].color.iter().zip(&w[1].color).map(|(a, b)| (d(*a) - d(*b)).abs()));
        let (sum, count) = pairs.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
        change[k] = sum / count as f64;
    }
    assert!(change[1] < 0.6 * change[0], "temporal {:.5} vs single-frame {:.5}", change[1], change[0]);
}

/// Rewrites `path` with its Vector pass changed by `f` (x, y per pixel).
fn edit_vectors(path: &Path, f: impl Fn(&mut f32, &mut f32)) {
    let mut frame = frame::read_frame(path, &Default::default()).unwrap();
    let find = |frame: &Frame, axis: &str| {
        frame.exr_channels.iter().position(|c| c.name.ends_with(&format!("Vector.{axis}"))).unwrap()
    };
    let (ix, iy) = (find(&frame, "X"), find(&frame, "Y"));
    let mut ys = std::mem::take(&mut frame.exr_channels[iy].data);
    for (x, y) in frame.exr_channels[ix].data.iter_mut().zip(ys.iter_mut()) {
        f(x, y);
    }
    frame.exr_channels[iy].data = ys;
    frame::write_frame_atomic(&frame, path).unwrap();
}

#[test]
fn bad_input_cuts_the_window_with_a_named_warning() {
    let d = denoiser();
    let params = TemporalParams::default();
    let last = |frames: &[PathBuf]| frames.last().unwrap().clone();
    let run = |dir: &Path, frames: &[PathBuf]| {
        let t = TemporalDenoiser::new(&d, DenoiseOptions::default(), params);
        let f = last(frames);
        denoise(&t, &f, &output(dir, &f, "out"))
    };

    let (dir, frames) = sequence();
    let clean = run(dir.path(), &frames);
    assert_eq!((clean.frames_used, clean.warnings.len()), (FRAMES as usize, 0), "{:?}", clean.warnings);

    // A missing frame: the window starts after it.
    fs::remove_file(&frames[2]).unwrap();
    let r = run(dir.path(), &frames);
    assert_eq!(r.frames_used, 1);
    assert!(r.warnings[0].contains("shot_0004.exr") && r.warnings[0].contains("missing"), "{:?}", r.warnings);

    // NaN and absurd vectors.
    let (dir, frames) = sequence();
    edit_vectors(&last(&frames), |x, _| *x = if x.is_sign_negative() { f32::NAN } else { 1e30 });
    let r = run(dir.path(), &frames);
    assert_eq!(r.frames_used, 1);
    assert!(r.warnings[0].contains("NaN or pointing outside the frame"), "{:?}", r.warnings);

    // Vectors in the other convention (towards the next frame): flipped.
    let (dir, frames) = sequence();
    edit_vectors(&last(&frames), |x, y| (*x, *y) = (-*x, -*y));
    let r = run(dir.path(), &frames);
    assert_eq!(r.frames_used, 1);
    assert!(r.warnings[0].contains("motion towards the next frame"), "{:?}", r.warnings);

    // No Vector pass at all: each frame alone, and the warning says how to turn it on.
    let (dir, frames) = sequence();
    let mut bare = frame::read_frame(&last(&frames), &Default::default()).unwrap();
    bare.exr_channels.retain(|c| !c.name.contains("Vector"));
    frame::write_frame_atomic(&bare, &last(&frames)).unwrap();
    let r = run(dir.path(), &frames);
    assert_eq!(r.frames_used, 1);
    assert!(r.warnings[0].contains("no Vector pass") && r.warnings[0].contains("Motion Blur off"), "{:?}", r.warnings);

    // A frame of another size before it.
    let (dir, frames) = sequence();
    let small = Frame::new_rgb(32, 24, vec![0.5; 32 * 24 * 3], Encoding::Linear, FileFormat::Exr);
    frame::write_frame_atomic(&small, &frames[2]).unwrap();
    let r = run(dir.path(), &frames);
    assert_eq!(r.frames_used, 1);
    assert!(r.warnings[0].contains("32x24") && r.warnings[0].contains("64x48"), "{:?}", r.warnings);
}
