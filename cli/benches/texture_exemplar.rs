//! `cargo xtask bench texture-exemplar [--sizes 512,1024,2048]`: `latentforge texture vary`
//! against Embark's texture-synthesis (`texture-synthesis-cli --tiling`) on the same exemplars in
//! one run: a stochastic one (cube2's stone ground), a structured one (cube2's stone tiles), a
//! photo that does not tile (a crop of cube2's rock formation), and a PBR-set row that
//! texture-synthesis cannot do (one 8-bit RGB image only). Whole commands, wall seconds and peak
//! resident memory; seam score, SWD to the exemplar (with the exemplar's own band), repetition
//! and verbatim-copy scores, all computed by the engine's metrics, the same way for both tools
//! (verbatim from the images: an exact 3x3 match locates each pixel in the exemplar).

use std::path::{Path, PathBuf};
use std::process::Command;

use latentforge::io::frame::{self, Encoding};
use latentforge::texture::{metrics, seam_score, Texture};

mod common;
use common::measure;

fn picture(path: &Path) -> Texture {
    let f = frame::read_frame(path, &Default::default()).unwrap_or_else(|e| panic!("{e}"));
    Texture { width: f.width, height: f.height, rgb: f.color, encoding: Encoding::Srgb }
}

struct Scores {
    seam: f64,
    swd: f64,
    repetition: f64,
    verbatim: f64,
}

fn scores(out: &Path, exemplar: &Texture) -> Scores {
    let t = picture(out);
    Scores {
        seam: seam_score(&t),
        swd: metrics::swd(&t, exemplar, 0),
        repetition: metrics::repetition_score(&t, exemplar.width.min(exemplar.height) / 8),
        verbatim: metrics::verbatim_from_images(&t, exemplar),
    }
}

// Over 100 lines on purpose: the benchmark reads as the table it prints, row by row.
fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or(root.join("target"));
    let exe = target.join("release/latentforge");
    let baseline = std::env::var("TEXTURE_SYNTHESIS_BIN").expect("run through `cargo xtask bench texture-exemplar`");
    let args: Vec<String> = std::env::args().collect();
    let sizes: Vec<usize> = args
        .windows(2)
        .find(|w| w[0] == "--sizes")
        .map(|w| w[1].split(',').map(|s| s.parse().expect("--sizes 512,1024")).collect())
        .unwrap_or(vec![512, 1024, 2048]);
    let materials = root.join("tests/fixtures/materials");
    let exemplars = [
        ("stochastic: stone ground", materials.join("stone_ground/stone_ground_Color.png")),
        ("structured: stone tiles", materials.join("stone_tiles/stone_tiles_Color.png")),
        ("photo, does not tile: rock", materials.join("rock_photo.png")),
    ];
    let dir = tempfile::tempdir().unwrap();
    println!("CPU, {} cores; whole commands (start to files written)", std::thread::available_parallelism().unwrap());
    println!("| exemplar | size | tool | seconds | peak MiB | seam | SWD to exemplar | repetition | verbatim copy |");
    println!("|---|---|---|---|---|---|---|---|---|");
    // Every command runs before any output is scored: a child's peak memory (ru_maxrss) starts
    // from this process's size at the fork, so this process stays small while they run.
    struct Run {
        exemplar: usize,
        size: usize,
        theirs: (PathBuf, f64, f64),
        ours: (PathBuf, f64, f64),
    }
    let mut runs = Vec::new();
    for (e, (_, exemplar)) in exemplars.iter().enumerate() {
        for &size in &sizes {
            let n = size.to_string();
            let theirs = dir.path().join(format!("ts_{e}_{size}.png"));
            let (t_ts, m_ts) = measure(
                Command::new(&baseline)
                    .args(["--out-size", &n, "--tiling", "--seed", "1", "-o"])
                    .arg(&theirs)
                    .arg("generate")
                    .arg(exemplar),
            );
            let ours_dir = dir.path().join(format!("ours_{e}_{size}"));
            let (t_us, m_us) = measure(
                Command::new(&exe)
                    .args(["texture", "vary"])
                    .arg(exemplar)
                    .args(["--seed", "1", "--size", &n, "--quiet", "--force", "--out-dir"])
                    .arg(&ours_dir),
            );
            let stem = exemplar.file_stem().unwrap().to_str().unwrap().trim_end_matches("_Color").to_string();
            let ours = ours_dir.join(format!("{stem}_s1_Color.png"));
            runs.push(Run { exemplar: e, size, theirs: (theirs, t_ts, m_ts), ours: (ours, t_us, m_us) });
        }
    }
    // The row texture-synthesis cannot do: a whole PBR set (colour, normal, height) in step.
    let sets: Vec<(usize, PathBuf, f64, f64)> = sizes
        .iter()
        .map(|&size| {
            let out = dir.path().join(format!("set_{size}"));
            let (t, m) = measure(
                Command::new(&exe)
                    .args(["texture", "vary"])
                    .arg(materials.join("stone_tiles"))
                    .args(["--seed", "1", "--size", &size.to_string(), "--quiet", "--force", "--out-dir"])
                    .arg(&out),
            );
            (size, out, t, m)
        })
        .collect();
    let mut summary = Vec::new();
    let mut band_of = Vec::new();
    for (name, exemplar) in &exemplars {
        let ex = picture(exemplar);
        band_of.push((name, metrics::swd_band(&ex), ex));
    }
    for run in &runs {
        let (name, band, ex) = &band_of[run.exemplar];
        let size = run.size;
        let ((theirs, t_ts, m_ts), (ours, t_us, m_us)) = (&run.theirs, &run.ours);
        let (a, b) = (scores(theirs, ex), scores(ours, ex));
        for (tool, t, m, s) in [("texture-synthesis", t_ts, m_ts, &a), ("latentforge", t_us, m_us, &b)] {
            println!(
                "| {name} | {size} | {tool} | {t:.2} | {m:.0} | {:.3} | {:.1} | {:.3} | {:.3} |",
                s.seam, s.swd, s.repetition, s.verbatim
            );
        }
        summary.push(format!(
            "{name} {size}: {:.1}x faster; seam {:.3} vs {:.3} ({}); SWD {:.2}x texture-synthesis's ({}); \
             repetition {:.3} vs {:.3} ({}); SWD band of the exemplar (its quadrants) {:.1} / {:.1} / {:.1}",
            t_ts / t_us,
            b.seam,
            a.seam,
            if b.seam <= a.seam { "met" } else { "missed" },
            b.swd / a.swd,
            if b.swd <= 1.2 * a.swd { "met" } else { "missed" },
            b.repetition,
            a.repetition,
            if b.repetition <= a.repetition { "no worse" } else { "worse" },
            band[0],
            band[1],
            band[2]
        ));
    }
    for (size, out, t, m) in sets {
        let seams: Vec<String> = ["Color", "Normal", "Height"]
            .iter()
            .map(|k| format!("{k} {:.3}", seam_score(&picture(&out.join(format!("stone_tiles_s1_{k}.png"))))))
            .collect();
        println!(
            "| PBR set: stone tiles (colour + normal + height) | {size} | texture-synthesis | cannot (one 8-bit RGB image only) | | | | | |"
        );
        println!(
            "| PBR set: stone tiles (colour + normal + height) | {size} | latentforge | {t:.2} | {m:.0} | {} | | | |",
            seams.join(", ")
        );
    }
    for line in summary {
        println!("{line}");
    }
}
