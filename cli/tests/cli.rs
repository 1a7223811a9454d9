//! The `latentforge` binary as a user runs it: exit codes, messages, batches, formats.

use std::fs;
use std::path::Path;

use latentforge::io::frame::{self, Encoding, FileFormat, Frame};
use latentforge::io::transfer;

mod common;
use common::{fixture, latentforge, p, text};

#[test]
fn help_teaches_by_example() {
    let o = latentforge(&["denoise", "--help"]);
    assert!(o.status.success());
    let t = text(&o);
    assert!(t.contains("latentforge denoise frame_0001.exr -o clean_0001.exr") && t.contains("--max-memory"), "{t}");
}

#[test]
fn models_lists_the_bundled_models() {
    let o = latentforge(&["models"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("denoise-hdr ") && t.contains("denoise-ldr-alb-nrm-small"), "{t}");
}

#[test]
fn batch_goes_on_past_a_bad_frame_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("shot_0001.exr");
    let bad = dir.path().join("shot_0002.exr");
    fs::copy(fixture("noisy_8spp.exr"), &good).unwrap();
    fs::write(&bad, b"not an exr").unwrap();
    let out = dir.path().join("out");
    let o = latentforge(&["denoise", p(&dir.path().join("shot_####.exr")), "--out-dir", p(&out)]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("shot_0002.exr") && t.contains("1 of 2 frames failed"), "{t}");
    let written: Vec<_> = fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(written, vec![std::ffi::OsString::from("shot_0001.exr")], "only the good frame, no temp files");
}

#[test]
fn one_output_for_many_inputs_is_refused() {
    let o = latentforge(&[
        "denoise",
        p(&fixture("noisy_8spp.exr")),
        p(&fixture("reference_1024spp.exr")),
        "-o",
        "/tmp/x.exr",
    ]);
    // A bad command line: exit 2.
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--out-dir"), "{}", text(&o));
}

#[test]
fn missing_onnx_runtime_says_what_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never.exr");
    let o = latentforge(&[
        "denoise",
        p(&fixture("noisy_8spp.exr")),
        "-o",
        p(&out),
        "--ort-lib",
        "/nowhere/libonnxruntime.so",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let t = text(&o);
    assert!(t.contains("/nowhere/libonnxruntime.so") && t.contains("cargo xtask setup"), "{t}");
    assert!(!out.exists());
}

#[test]
fn cuda_request_falls_back_to_cpu_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.exr");
    let o = latentforge(&["denoise", p(&fixture("noisy_8spp.exr")), "-o", p(&out), "--device", "cuda"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    // On a machine with a working CUDA set-up the frame runs on the GPU instead.
    assert!(
        t.contains("(denoise-hdr-alb-nrm, cuda,") || t.contains("CUDA unavailable, running on CPU instead:"),
        "{t}"
    );
    assert!(out.is_file());
}

#[test]
fn ldr_and_hdr_formats_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let src = frame::read_frame(&fixture("noisy_8spp.exr"), &Default::default()).unwrap();
    let ldr: Vec<f32> = src.color.iter().map(|&v| transfer::linear_to_srgb(v.min(1.0))).collect();
    let cases = [
        ("in8.png", false, Encoding::Srgb),
        ("in16.png", true, Encoding::Srgb),
        ("in.tif", true, Encoding::Srgb),
        ("in.hdr", true, Encoding::Linear),
        ("in.pfm", true, Encoding::Linear),
    ];
    for (name, wide, enc) in cases {
        let data = if enc == Encoding::Srgb { ldr.clone() } else { src.color.clone() };
        let mut f = Frame::new_rgb(src.width, src.height, data, enc, FileFormat::from_path(Path::new(name)).unwrap());
        f.wide = wide;
        let input = dir.path().join(name);
        frame::write_frame_atomic(&f, &input).unwrap();
        let out = dir.path().join(format!("out_{name}"));
        let o = latentforge(&["denoise", p(&input), "-o", p(&out)]);
        assert!(o.status.success(), "{name}: {}", text(&o));
        let g = frame::read_frame(&out, &Default::default()).unwrap();
        assert_eq!((g.width, g.height, g.encoding, g.wide), (src.width, src.height, enc, wide), "{name}");
        assert!(g.color.iter().all(|v| v.is_finite() && *v >= 0.0), "{name}");
    }
}

#[test]
fn exr_output_can_be_converted() {
    let dir = tempfile::tempdir().unwrap();
    let o = latentforge(&["denoise", p(&fixture("noisy_8spp.exr")), "--out-dir", p(dir.path()), "--format", "png"]);
    assert!(o.status.success(), "{}", text(&o));
    let g = frame::read_frame(&dir.path().join("noisy_8spp.png"), &Default::default()).unwrap();
    assert_eq!((g.width, g.height), (128, 96));
}

/// The acceptance case: a 1920x1080 multilayer EXR with Blender's passes, denoised in
/// tiles under a memory budget, written as a multilayer EXR.
#[test]
fn full_hd_blender_exr_is_denoised() {
    let dir = tempfile::tempdir().unwrap();
    let src = frame::read_frame(&fixture("noisy_8spp.exr"), &Default::default()).unwrap();
    let (w, h) = (1920, 1080);
    let channels: Vec<frame::ExrChannel> = src
        .exr_channels
        .iter()
        .map(|c| frame::ExrChannel {
            name: c.name.clone(),
            half: c.half,
            data: (0..w * h).map(|i| c.data[(i / w % src.height) * src.width + i % w % src.width]).collect(),
        })
        .collect();
    let input = dir.path().join("shot_0001.exr");
    frame::write_exr_channels(&input, w, h, &channels).unwrap();
    let out = dir.path().join("clean_0001.exr");
    let o = latentforge(&["denoise", p(&input), "-o", p(&out), "--max-memory", "256"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("denoise-hdr-alb-nrm") && t.contains(" tiles,"), "aux model, tiled: {t}");
    let g = frame::read_frame(&out, &Default::default()).unwrap();
    assert_eq!((g.width, g.height), (w, h));
    assert!(g.albedo.is_some() && g.normal.is_some());
    assert!(g.color.iter().all(|v| v.is_finite()));
}
