//! End-to-end tests of the engine on committed renders, with the bundled models and ONNX Runtime
//! (`cargo xtask test` fetches the library first and sets LATENTFORGE_ORT).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use latentforge::denoise::{metrics, DenoiseError, DenoiseOptions, Denoiser, Quality};
use latentforge::infer::{ModelError, ModelStore};
use latentforge::io::frame::{self, Encoding as FrameEncoding, Frame};
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
