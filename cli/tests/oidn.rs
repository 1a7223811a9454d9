//! Equivalence with Intel Open Image Denoise: the same frame through `latentforge denoise` (our
//! ONNX conversion of OIDN's networks) and through pyoidn itself, in every mode the engine has:
//! HDR and LDR; colour, +albedo, +albedo+normal; quality high and fast. The outputs must agree
//! to ≥ 45 dB PSNR. `cargo xtask test` provides a Python with pyoidn in LATENTFORGE_TOOLS_PYTHON.

mod common;

use std::path::Path;
use std::process::Command;

use common::{fixture, latentforge, p, text};
use latentforge::denoise::metrics;
use latentforge::io::frame::{self, Encoding, FileFormat, Frame};

const MIN_PSNR_DB: f64 = 45.0;

fn write_pfm(path: &Path, width: usize, height: usize, rgb: &[f32]) {
    let f = Frame::new_rgb(width, height, rgb.to_vec(), Encoding::Linear, FileFormat::Pfm);
    frame::write_frame_atomic(&f, path).unwrap();
}

#[test]
fn our_networks_match_pyoidn_in_every_mode() {
    let noisy = frame::read_frame(&fixture("noisy_8spp.exr"), &Default::default()).unwrap();
    let (w, h) = (noisy.width, noisy.height);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // PFM inputs both sides read: colour, and side files named as the engine looks for them.
    write_pfm(&d.join("color.pfm"), w, h, &noisy.color);
    write_pfm(&d.join("albedo.pfm"), w, h, noisy.albedo.as_ref().unwrap());
    write_pfm(&d.join("normal.pfm"), w, h, noisy.normal.as_ref().unwrap());
    for folder in ["plain", "alb", "alb_nrm"] {
        std::fs::create_dir(d.join(folder)).unwrap();
        std::fs::copy(d.join("color.pfm"), d.join(folder).join("f.pfm")).unwrap();
    }
    std::fs::copy(d.join("albedo.pfm"), d.join("alb/f_albedo.pfm")).unwrap();
    std::fs::copy(d.join("albedo.pfm"), d.join("alb_nrm/f_albedo.pfm")).unwrap();
    std::fs::copy(d.join("normal.pfm"), d.join("alb_nrm/f_normal.pfm")).unwrap();

    let python = std::env::var("LATENTFORGE_TOOLS_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/train/denoise/oidn_reference.py");
    let out = Command::new(&python).arg(&script).arg(d).output().unwrap();
    assert!(
        out.status.success(),
        "pyoidn reference failed (run through `cargo xtask test`, which installs pyoidn): {}",
        text(&out)
    );

    let mut report = Vec::new();
    for (range, encoding) in [("hdr", Encoding::Linear), ("ldr", Encoding::Srgb)] {
        for (folder, aux, model_aux) in
            [("plain", "", ""), ("alb", "_alb", "-alb"), ("alb_nrm", "_alb_nrm", "-alb-nrm")]
        {
            for (quality, small) in [("high", ""), ("fast", "-small")] {
                let ours = d.join(format!("ours_{range}{aux}_{quality}.pfm"));
                let o = latentforge(&[
                    "denoise",
                    p(&d.join(folder).join("f.pfm")),
                    "-o",
                    p(&ours),
                    "--range",
                    range,
                    "--quality",
                    quality,
                ]);
                let t = text(&o);
                assert!(o.status.success(), "{t}");
                let model = format!("denoise-{range}{model_aux}{small}");
                assert!(t.contains(&format!("({model}, ")), "{range}{aux} {quality} ran {model}: {t}");
                let a = frame::read_frame(&ours, &Default::default()).unwrap();
                let b = frame::read_frame(&d.join(format!("oidn_{range}{aux}_{quality}.pfm")), &Default::default())
                    .unwrap();
                let psnr = metrics::compare(&a.color, &b.color, w, h, encoding).psnr;
                report.push(format!("{model}: {psnr:.1} dB"));
                assert!(psnr >= MIN_PSNR_DB, "{model} vs pyoidn: {psnr:.1} dB < {MIN_PSNR_DB}\n{}", report.join("\n"));
            }
        }
    }
    println!("{}", report.join("\n"));
}
