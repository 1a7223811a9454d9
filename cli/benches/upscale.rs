//! `cargo xtask bench upscale`: `latentforge upscale` on a tileable 1024x1024 texture (the
//! generator's rock, its edges on its calmest lines as `texture` writes it) to 4096x4096 and
//! 2048x2048, the trained upscaler against Lanczos (the same command, `--method lanczos`, which
//! wraps the edges the same way) in one run: seconds (whole command, start to file), peak
//! resident memory (the child's maxrss), the seconds ratio, and each output's seam score. With
//! `UPSCALE_ANCHOR_PYTHON` (a Python with PyTorch), the outside anchor too: the npm
//! `@upscalerjs/esrgan-medium` 4x model run by models/train/upscale/anchor.py in 128-px patches
//! with 16 px of padding, as UpscalerJS runs it (whole, it needs more than 23 GB here); the whole
//! command, including Python's start and the model's load.

use std::path::Path;
use std::process::Command;

use latentforge::io::frame;
use latentforge::texture::{seam_score, Texture};

mod common;
use common::measure;

fn seam(path: &Path) -> f64 {
    let f = frame::read_frame(path, &Default::default()).unwrap();
    seam_score(&Texture { width: f.width, height: f.height, rgb: f.color, encoding: f.encoding })
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or(root.join("target"));
    let exe = target.join("release/latentforge");
    let dir = tempfile::tempdir().unwrap();
    let made = Command::new(&exe)
        .args(["texture", "generate", "--material", "rock", "--seed", "3", "--size", "1024", "--quiet", "--out-dir"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(made.success(), "could not make the input texture");
    let input = dir.path().join("rock_s3.png");
    // Rows are printed at the end: reading an output here would raise this process's resident
    // size, which the next child's peak starts from.
    let mut rows: Vec<(String, usize, f64, f64, f64, std::path::PathBuf)> = Vec::new();
    for scale in ["4", "2"] {
        let mut lanczos_seconds = 0.0;
        for method in ["lanczos", "network"] {
            let out = dir.path().join(format!("{method}_x{scale}.png"));
            let (t, m) = measure(
                Command::new(&exe)
                    .args(["upscale", "--quiet", "--force", "--scale", scale, "--method", method, "-o"])
                    .arg(&out)
                    .arg(&input),
            );
            if method == "lanczos" {
                lanczos_seconds = t;
            }
            let side = 1024 * scale.parse::<usize>().unwrap();
            let name = if method == "network" { "latentforge upscaler" } else { "Lanczos-3" };
            rows.push((name.into(), side, t, m, t / lanczos_seconds, out));
        }
        if let (Some(python), "4") = (std::env::var_os("UPSCALE_ANCHOR_PYTHON"), scale) {
            let out = dir.path().join("esrgan_x4.png");
            let (t, m) = measure(
                Command::new(python)
                    .current_dir(root.join("models/train/upscale"))
                    .arg("anchor.py")
                    .arg(&input)
                    .arg("4")
                    .arg(&out)
                    .arg("128"),
            );
            rows.push(("ESRGAN-medium (npm, PyTorch, 128-px patches)".into(), 4096, t, m, t / lanczos_seconds, out));
        }
    }
    println!(
        "input: a tileable 1024x1024 rock from the texture generator (seam score {:.3}); CPU, 2 cores",
        seam(&input)
    );
    println!("| method | output | seconds | peak MiB | seconds vs Lanczos | seam score |");
    println!("|---|---|---|---|---|---|");
    for (name, side, t, m, ratio, out) in rows {
        println!("| {name} | {side}x{side} | {t:.1} | {m:.0} | {ratio:.1}x | {:.3} |", seam(&out));
    }
}
