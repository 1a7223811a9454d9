//! End-to-end tests of the engine on committed renders, with the bundled models and ONNX Runtime
//! (`cargo xtask test` fetches the library first and sets LATENTFORGE_ORT).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use latentforge::denoise::batch::{BatchJob, Next};
use latentforge::denoise::temporal::{window_of, TemporalDenoiser, TemporalParams, TemporalReport};
use latentforge::denoise::{metrics, DenoiseError, DenoiseOptions, Denoiser, Quality};
use latentforge::infer::{ModelError, ModelStore};
use latentforge::io::frame::{self, Encoding as FrameEncoding, ExrChannel, FileFormat, Frame};
use latentforge::{Device, Runtime, RuntimeOptions};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
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

/// PSNR in dB after a fixed tone map (Reinhard, then sRGB), as `--reference` reports it.
fn psnr(a: &[f32], b: &[f32]) -> f64 {
    // PSNR does not depend on the layout: the pixels are passed as one row.
    metrics::compare(a, b, a.len() / 3, 1, FrameEncoding::Linear).psnr
}

/// Gain the denoised fixture must show over the noisy input (tests/fixtures: a Cycles frame at
/// 8 spp vs 1024 spp). The bundled OIDN networks measure 10.4 dB (colour+albedo+normal), 10.0 dB
/// (the same, fast) and 8.7 dB (colour only) on it.
const MIN_GAIN_AUX_DB: f64 = 9.5;
const MIN_GAIN_FAST_DB: f64 = 9.0;
const MIN_GAIN_COLOR_DB: f64 = 7.5;

#[test]
fn denoised_fixture_is_closer_to_the_reference() {
    let noisy = frame::read_frame(&fixture("noisy_8spp.exr"), &Default::default()).unwrap();
    let reference = frame::read_frame(&fixture("reference_1024spp.exr"), &Default::default()).unwrap();
    assert!(noisy.albedo.is_some() && noisy.normal.is_some(), "fixture carries Blender's denoising passes");
    let d = denoiser();
    let base = psnr(&noisy.color, &reference.color);

    let aux = d.denoise_frame(&noisy, &DenoiseOptions::default(), Path::new("noisy")).unwrap();
    assert_eq!(aux.model, "denoise-hdr-alb-nrm");
    let gain_aux = psnr(&aux.color, &reference.color) - base;

    let opts = DenoiseOptions { quality: Quality::Fast, ..Default::default() };
    let fast = d.denoise_frame(&noisy, &opts, Path::new("noisy")).unwrap();
    assert_eq!(fast.model, "denoise-hdr-alb-nrm-small");
    let gain_fast = psnr(&fast.color, &reference.color) - base;

    let opts = DenoiseOptions { use_aux: false, ..Default::default() };
    let color = d.denoise_frame(&noisy, &opts, Path::new("noisy")).unwrap();
    assert_eq!(color.model, "denoise-hdr");
    let gain_color = psnr(&color.color, &reference.color) - base;

    eprintln!("noisy {base:.2} dB; gain: aux {gain_aux:.2} dB, aux fast {gain_fast:.2} dB, colour {gain_color:.2} dB");
    assert!(gain_aux >= MIN_GAIN_AUX_DB, "colour+aux gained only {gain_aux:.2} dB");
    assert!(gain_fast >= MIN_GAIN_FAST_DB, "colour+aux fast gained only {gain_fast:.2} dB");
    assert!(gain_color >= MIN_GAIN_COLOR_DB, "colour-only gained only {gain_color:.2} dB");
}

#[test]
fn tiled_output_matches_untiled_output() {
    let noisy = frame::read_frame(&fixture("noisy_8spp.exr"), &Default::default()).unwrap();
    let d = denoiser();
    let whole = d.denoise_frame(&noisy, &DenoiseOptions::default(), Path::new("n")).unwrap();
    assert_eq!(whole.tiles, 1);
    let opts = DenoiseOptions { tile: Some(32), ..Default::default() };
    let tiled = d.denoise_frame(&noisy, &opts, Path::new("n")).unwrap();
    assert_eq!(tiled.tiles, 4 * 3, "128x96 in 32 px tiles");
    let max_rel =
        whole.color.iter().zip(&tiled.color).map(|(a, b)| (a - b).abs() / (a.abs() + 1e-2)).fold(0.0f32, f32::max);
    eprintln!("max relative difference tiled vs untiled: {max_rel:.2e}");
    assert!(max_rel < 1e-4, "tiles differ from the whole frame by {max_rel}");
}

#[test]
fn memory_budget_forces_tiles() {
    let noisy = frame::read_frame(&fixture("noisy_8spp.exr"), &Default::default()).unwrap();
    let opts = DenoiseOptions { max_memory: 1 << 20, ..Default::default() };
    let done = denoiser().denoise_frame(&noisy, &opts, Path::new("n")).unwrap();
    assert!(done.tiles > 1, "1 MiB cannot hold a 128x96 frame in one tile");
}

#[test]
fn blender_frame_round_trip_keeps_passes_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("frame_0001.exr");
    fs::copy(fixture("noisy_8spp.exr"), &input).unwrap();
    let before = fs::read(&input).unwrap();
    let d = denoiser();

    let err = d.denoise_file(&input, &input, &DenoiseOptions::default()).unwrap_err();
    assert!(err.to_string().contains("refusing to overwrite an input"), "{err}");

    let out = dir.path().join("clean_0001.exr");
    let report = d.denoise_file(&input, &out, &DenoiseOptions::default()).unwrap();
    assert_eq!(report.model, "denoise-hdr-alb-nrm");
    assert_eq!(fs::read(&input).unwrap(), before, "input untouched");
    let clean = frame::read_frame(&out, &Default::default()).unwrap();
    assert!(clean.albedo.is_some() && clean.normal.is_some(), "passes carried into the output");
    assert!(clean.alpha.is_some());
    let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "no temporary files left: {names:?}");
}

#[test]
fn side_file_passes_are_used_and_size_mismatch_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let noisy = frame::read_frame(&fixture("noisy_8spp.exr"), &Default::default()).unwrap();
    let plain = |data: &[f32], w: usize, h: usize| {
        let mut f = Frame::new_rgb(w, h, data.to_vec(), frame::Encoding::Linear, frame::FileFormat::Pfm);
        f.wide = false;
        f
    };
    let beauty = dir.path().join("shot.pfm");
    frame::write_frame_atomic(&plain(&noisy.color, 128, 96), &beauty).unwrap();
    frame::write_frame_atomic(&plain(noisy.albedo.as_ref().unwrap(), 128, 96), &dir.path().join("shot_albedo.pfm"))
        .unwrap();
    frame::write_frame_atomic(&plain(noisy.normal.as_ref().unwrap(), 128, 96), &dir.path().join("shot_normal.pfm"))
        .unwrap();
    let d = denoiser();
    let report = d.denoise_file(&beauty, &dir.path().join("out.pfm"), &DenoiseOptions::default()).unwrap();
    assert_eq!(report.model, "denoise-hdr-alb-nrm", "side files were picked up");

    frame::write_frame_atomic(&plain(&vec![0.5; 64 * 64 * 3], 64, 64), &dir.path().join("shot_normal.pfm")).unwrap();
    let err =
        d.denoise_file(&beauty, &dir.path().join("out2.pfm"), &DenoiseOptions::default()).unwrap_err().to_string();
    assert!(err.contains("shot_normal.pfm") && err.contains("64x64") && err.contains("128x96"), "{err}");
    assert!(!dir.path().join("out2.pfm").exists());
}

#[test]
fn mismatched_pass_inside_a_multipart_exr_is_named() {
    use exr::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.exr");
    // Two parts of different sizes: colour 8x8, albedo 4x4 (as a broken compositor might write).
    let part = |name: &str, n: usize| {
        let ch = |c: &str| AnyChannel::new(c, FlatSamples::F16(vec![f16::from_f32(0.5); n * n]));
        Layer::new(
            (n, n),
            LayerAttributes::named(name),
            Encoding::SMALL_LOSSLESS,
            AnyChannels::sort(SmallVec::from_vec(vec![ch("R"), ch("G"), ch("B")])),
        )
    };
    let layers: Layers<AnyChannels<FlatSamples>> =
        SmallVec::from_vec(vec![part("ViewLayer.Combined", 8), part("ViewLayer.Denoising Albedo", 4)]);
    Image::from_layers(ImageAttributes::new(IntegerBounds::from_dimensions((8, 8))), layers)
        .write()
        .to_file(&path)
        .unwrap();
    let err = frame::read_frame(&path, &Default::default()).unwrap_err().to_string();
    assert!(err.contains("bad.exr") && err.contains("albedo pass is 4x4") && err.contains("8x8"), "{err}");
}

#[test]
fn nan_pixels_are_rejected_with_their_position() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = frame::read_frame(&fixture("noisy_8spp.exr"), &Default::default()).unwrap();
    f.color[3 * (128 * 5 + 7) + 1] = f32::NAN;
    let path = dir.path().join("nan.exr");
    frame::write_frame_atomic(&f, &path).unwrap();
    let err = denoiser().denoise_file(&path, &dir.path().join("o.exr"), &DenoiseOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("nan.exr") && msg.contains("x=7, y=5"), "{msg}");
    assert!(!dir.path().join("o.exr").exists());
}

#[test]
fn truncated_exr_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = fs::read(fixture("noisy_8spp.exr")).unwrap();
    let path = dir.path().join("cut.exr");
    fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = denoiser().denoise_file(&path, &dir.path().join("o.exr"), &DenoiseOptions::default()).unwrap_err();
    assert!(matches!(err, DenoiseError::Frame(_)), "{err}");
    assert!(err.to_string().contains("cut.exr"), "{err}");
}

/// Copies the bundled models into a temp folder so a test can break them.
fn broken_store(break_it: impl Fn(&Path)) -> (tempfile::TempDir, ModelStore) {
    let dir = tempfile::tempdir().unwrap();
    for name in ["denoise-hdr", "denoise-hdr-alb-nrm"] {
        let (src, dst) = (root().join("models").join(name), dir.path().join(name));
        fs::create_dir_all(&dst).unwrap();
        for f in ["model.toml", &format!("{name}.onnx")] {
            fs::copy(src.join(f), dst.join(f)).unwrap();
        }
    }
    break_it(&dir.path().join("denoise-hdr-alb-nrm"));
    let store = ModelStore { dir: dir.path().to_path_buf() };
    (dir, store)
}

fn denoise_with(store: ModelStore) -> Result<(), DenoiseError> {
    let noisy = frame::read_frame(&fixture("noisy_8spp.exr"), &Default::default()).unwrap();
    Denoiser::new(runtime(), store).denoise_frame(&noisy, &DenoiseOptions::default(), Path::new("n")).map(|_| ())
}

#[test]
fn truncated_model_is_named() {
    let (_d, store) = broken_store(|dir| {
        let f = dir.join("denoise-hdr-alb-nrm.onnx");
        let bytes = fs::read(&f).unwrap();
        fs::write(&f, &bytes[..1000]).unwrap();
    });
    let err = denoise_with(store).unwrap_err();
    assert!(matches!(err, DenoiseError::Model(ModelError::Size { .. })), "{err}");
    assert!(err.to_string().contains("denoise-hdr-alb-nrm.onnx") && err.to_string().contains("truncated"));
}

#[test]
fn model_signature_must_match_its_manifest() {
    let (_d, store) = broken_store(|dir| {
        // Put the colour-only network where the manifest promises nine input channels,
        // with size and hash updated so only the graph check can catch it.
        let other = dir.parent().unwrap().join("denoise-hdr/denoise-hdr.onnx");
        let f = dir.join("denoise-hdr-alb-nrm.onnx");
        fs::copy(&other, &f).unwrap();
        let sha = latentforge::io::digest::sha256_file(&f).unwrap();
        let size = fs::metadata(&f).unwrap().len();
        let toml = fs::read_to_string(dir.join("model.toml")).unwrap();
        let toml: String = toml
            .lines()
            .map(|l| {
                if l.starts_with("sha256") {
                    format!("sha256 = \"{sha}\"")
                } else if l.starts_with("size_bytes") {
                    format!("size_bytes = {size}")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        fs::write(dir.join("model.toml"), toml).unwrap();
    });
    let err = denoise_with(store).unwrap_err();
    assert!(matches!(err, DenoiseError::Model(ModelError::Signature { .. })), "{err}");
    assert!(err.to_string().contains("[-1, 3, -1, -1]"), "{err}");
}

#[test]
fn bundled_manifests_match_their_files() {
    let store = ModelStore::locate(Some(&root().join("models"))).unwrap();
    let entries: Vec<_> = store.list().into_iter().map(|e| e.unwrap()).collect();
    assert!(entries.len() >= 2);
    for e in entries {
        e.verify_file().unwrap();
        assert!(e.dir.join("CARD.md").is_file(), "{} has no CARD.md", e.manifest.name);
        assert!(!e.manifest.training_data.is_empty());
    }
}

#[test]
fn the_passes_a_frame_has_pick_the_network() {
    let mut noisy = frame::read_frame(&fixture("noisy_8spp.exr"), &Default::default()).unwrap();
    noisy.normal = None;
    let d = denoiser();
    let done = d.denoise_frame(&noisy, &DenoiseOptions::default(), Path::new("n")).unwrap();
    assert_eq!(done.model, "denoise-hdr-alb", "albedo alone runs OIDN's colour+albedo network");
    assert!(done.color.iter().all(|v| v.is_finite()));
    noisy.normal = noisy.albedo.take();
    let done = d.denoise_frame(&noisy, &DenoiseOptions::default(), Path::new("n")).unwrap();
    assert_eq!(done.model, "denoise-hdr", "a normal pass without albedo cannot be used");
    let opts = DenoiseOptions { encoding: Some(FrameEncoding::Srgb), quality: Quality::Fast, ..Default::default() };
    assert_eq!(d.denoise_frame(&noisy, &opts, Path::new("n")).unwrap().model, "denoise-ldr-small");
}

#[test]
fn an_explicit_model_must_fit_the_frame() {
    let mut noisy = frame::read_frame(&fixture("noisy_8spp.exr"), &Default::default()).unwrap();
    let d = denoiser();
    let opts = DenoiseOptions { model: Some("denoise-ldr-alb-nrm".into()), ..Default::default() };
    let err = d.denoise_frame(&noisy, &opts, Path::new("n.exr")).unwrap_err().to_string();
    assert!(err.contains("n.exr") && err.contains("denoises ldr frames") && err.contains("--range"), "{err}");
    noisy.albedo = None;
    let opts = DenoiseOptions { model: Some("denoise-hdr-alb-nrm".into()), ..Default::default() };
    let err = d.denoise_frame(&noisy, &opts, Path::new("n.exr")).unwrap_err().to_string();
    assert!(err.contains("needs albedo + normal passes"), "{err}");
    let opts = DenoiseOptions { model: Some("denoise-hdr-small".into()), ..Default::default() };
    assert_eq!(d.denoise_frame(&noisy, &opts, Path::new("n")).unwrap().model, "denoise-hdr-small");
}

// Temporal mode on a committed Cycles sequence (tests/fixtures/sequence: 4 frames of 64x48 at
// 4 spp with Blender's Vector pass, rendered by models/train/denoise/fixtures.py): bounded
// windows give the same bytes whatever order or process denoises the frames, history steadies a
// still shot, and each kind of bad input cuts the window with a warning that names it.

const FRAMES: u64 = 4;

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
        let d = |v: f32| metrics::display_value(v, FrameEncoding::Linear) as f64;
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
    let small = Frame::new_rgb(32, 24, vec![0.5; 32 * 24 * 3], FrameEncoding::Linear, FileFormat::Exr);
    frame::write_frame_atomic(&small, &frames[2]).unwrap();
    let r = run(dir.path(), &frames);
    assert_eq!(r.frames_used, 1);
    assert!(r.warnings[0].contains("32x24") && r.warnings[0].contains("64x48"), "{:?}", r.warnings);
}

#[test]
fn a_batch_writes_what_single_frames_write_and_reports_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let d = denoiser();
    let opts = DenoiseOptions::default();
    let single = dir.path().join("single.exr");
    d.denoise_file(&fixture("noisy_8spp.exr"), &single, &opts).unwrap();
    let jobs: Vec<BatchJob> = ["noisy_8spp.exr", "missing.exr", "noisy_8spp.exr"]
        .iter()
        .enumerate()
        .map(|(k, name)| BatchJob { input: fixture(name), output: dir.path().join(format!("out_{k}.exr")) })
        .collect();
    let mut seen = Vec::new();
    d.denoise_batch(&jobs, &opts, |index, result| {
        seen.push((index, result.is_ok()));
        Next::Continue
    });
    assert_eq!(seen, [(0, true), (1, false), (2, true)], "a missing frame fails alone, in its place");
    let expected = fs::read(&single).unwrap();
    for k in [0, 2] {
        assert!(fs::read(dir.path().join(format!("out_{k}.exr"))).unwrap() == expected, "out_{k} differs");
    }
    assert!(!dir.path().join("out_1.exr").exists());

    let mut count = 0;
    d.denoise_batch(&vec![jobs[0].clone(); 4], &opts, |_, _| {
        count += 1;
        Next::Stop
    });
    assert!(count < 4, "Stop must keep the batch from starting every frame ({count} reported)");
}
