//! Project tasks: `cargo xtask setup|demo|test|bench|train|bundle|dist`. Run `cargo xtask help`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use latentforge::drums::DRUM_MODEL;
use latentforge::groove::{CLIP_DECODER_MODEL, CLIP_ENCODER_MODEL, DECODER_MODEL};
use latentforge::infer::{LIBRARY_FILE, ORT_VERSION};
use latentforge::io::atomic::write_atomic;
use latentforge::io::digest::sha256_file;

mod blender;
mod dist;
mod farm;
mod fatbin;
mod fixtures;
mod fuzz;
mod gpu_kit;
mod test;

/// A pinned PyPI wheel of ONNX Runtime (CPython 3.11 tag; the native library inside is the same
/// for every tag).
struct Wheel {
    package: &'static str,
    sha256: &'static str,
}

impl Wheel {
    fn file(&self) -> String {
        format!("{}-{ORT_VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl", self.package.replace('-', "_"))
    }
}

const CPU_WHEEL: Wheel =
    Wheel { package: "onnxruntime", sha256: "5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f" };
const GPU_WHEEL: Wheel =
    Wheel { package: "onnxruntime-gpu", sha256: "e26c475fe361b2015f45b4b824bd13f0bb20204e59b62814e6f0acd5f3d491a6" };
/// CUDA 13 runtime wheels the GPU build loads (its `cuda`/`cudnn` extras, plus cuBLAS).
const CUDA_WHEELS: &[&str] = &[
    "nvidia-cuda-runtime~=13.0",
    "nvidia-cuda-nvrtc~=13.0",
    "nvidia-cublas~=13.0",
    "nvidia-cufft~=12.0",
    "nvidia-curand~=10.0",
    "nvidia-cudnn-cu13~=9.0",
    "nvidia-nvjitlink~=13.0",
];

/// `cargo xtask --help`: every task with its flags.
const HELP: &str = include_str!("help.txt");

/// The Python linter `cargo xtask test` runs on models/train (pinned: new rules are new failures).
const RUFF: &str = "ruff==0.17.5";
/// Intel Open Image Denoise for Python: the baseline our imported networks are checked against.
const PYOIDN: &str = "pyoidn==2.5.1.0";

const PLUGIN_PACKAGE: &str = "latent_groove";
const PLUGIN_NAME: &str = "Latent Groove";
/// Models the plugin loads at run time (the clip VAE for Follow).
const PLUGIN_MODELS: &[&str] = &[DECODER_MODEL, CLIP_ENCODER_MODEL, CLIP_DECODER_MODEL, DRUM_MODEL];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = &args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("setup") => setup(rest.iter().any(|a| a == "--gpu")).map(|_| ()),
        Some("demo") => demo(),
        Some("fixtures") => fixtures::fixtures(),
        Some("test") if rest.first().is_some_and(|a| a == "farm") => setup(false).and_then(|lib| test::farm(&lib)),
        Some("test") if rest.first().is_some_and(|a| a == "dist") => dist::dist().and_then(|a| dist::check(&a.tarball)),
        Some("test") if rest.first().is_some_and(|a| a == "blender") => dist::dist().and_then(|a| blender::test(&a)),
        Some("test") => test::all(rest),
        Some("bench") => bench(rest),
        Some("fuzz") => fuzz::fuzz(rest),
        Some("train") => train(rest),
        Some("bundle") => bundle(rest.iter().any(|a| a == "--alloc-check")).map(|_| ()),
        Some("dist") => dist::dist().map(|_| ()),
        Some("gpu-kit") => gpu_kit::gpu_kit(rest),
        Some("blender-pictures") => dist::dist().and_then(|a| blender::pictures(&a)),
        None | Some("help" | "--help" | "-h") => {
            print!("{HELP}");
            Ok(())
        }
        Some(task) => {
            eprint!("{HELP}");
            eprintln!("\ncargo xtask: no task named {task:?} (the tasks are listed above)");
            std::process::exit(2)
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd.status().with_context(|| format!("could not start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// `pip download` of binary wheels for CPython 3.11 on x86-64 Linux into `dir`, whatever the
/// local Python is (the native libraries inside are the same for every Python tag).
fn pip_download(dir: &Path) -> Command {
    let mut cmd = Command::new(python());
    cmd.args(["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"])
        .args(["--python-version", "3.11", "--implementation", "cp", "--platform", "manylinux_2_28_x86_64"])
        .args(["--platform", "manylinux_2_27_x86_64", "--platform", "manylinux_2_17_x86_64"])
        .arg("-d")
        .arg(dir);
    cmd
}

/// `pip download` of one pinned wheel into `dir` (skipped when a verified copy is there).
fn fetch_wheel(dir: &Path, pin: &Wheel) -> Result<PathBuf> {
    let (package, hash) = (pin.package, pin.sha256);
    let wheel = dir.join(pin.file());
    if wheel.is_file() && sha256_file(&wheel)? == hash {
        return Ok(wheel);
    }
    fs::create_dir_all(dir)?;
    run(pip_download(dir).arg(format!("{package}=={ORT_VERSION}"))).with_context(|| {
        format!("downloading {package}=={ORT_VERSION} from PyPI (needs python3 with pip and network access)")
    })?;
    let actual = sha256_file(&wheel).with_context(|| format!("pip did not produce {}", wheel.display()))?;
    if actual != hash {
        fs::remove_file(&wheel).ok();
        bail!("{}: sha256 {actual} does not match the pinned {hash}; refusing to use it", wheel.display());
    }
    Ok(wheel)
}

/// Copies members of a wheel (a zip) whose names satisfy `want` into `dest`, flattened.
fn unpack(wheel: &Path, dest: &Path, want: impl Fn(&str) -> bool) -> Result<usize> {
    let mut zip =
        zip::ZipArchive::new(fs::File::open(wheel)?).with_context(|| format!("{} is not a wheel", wheel.display()))?;
    fs::create_dir_all(dest)?;
    let mut n = 0;
    for i in 0..zip.len() {
        let mut member = zip.by_index(i)?;
        let name = member.name().to_string();
        if !want(&name) {
            continue;
        }
        let file_name = Path::new(&name).file_name().expect("member has a name").to_owned();
        write_atomic(&dest.join(&file_name), |tmp| {
            std::io::copy(&mut member, &mut fs::File::create(tmp)?).map(|_| ())
        })?;
        n += 1;
    }
    Ok(n)
}

/// Fetches ONNX Runtime into `.ort/cpu` (or `.ort/gpu` with CUDA) and returns the library path.
fn setup(gpu: bool) -> Result<PathBuf> {
    let base = root().join(".ort");
    let (dir, pin) = if gpu { (base.join("gpu"), &GPU_WHEEL) } else { (base.join("cpu"), &CPU_WHEEL) };
    let lib = dir.join(LIBRARY_FILE);
    let lib_in_wheel = format!("onnxruntime/capi/{LIBRARY_FILE}");
    let stamp = dir.join(".complete");
    if lib.is_file() && stamp.is_file() {
        return Ok(lib);
    }
    eprintln!("setting up ONNX Runtime {ORT_VERSION} ({}) in {}", if gpu { "CUDA" } else { "CPU" }, dir.display());
    let wheels = base.join("wheels");
    let wheel = fetch_wheel(&wheels, pin)?;
    unpack(&wheel, &dir, |n| n == lib_in_wheel || n.starts_with("onnxruntime/capi/libonnxruntime_providers_"))?;
    if gpu {
        let cuda = wheels.join("cuda13");
        fs::create_dir_all(&cuda)?;
        run(pip_download(&cuda).args(CUDA_WHEELS)).context("downloading the CUDA 13 nvidia-* wheels from PyPI")?;
        for w in fs::read_dir(&cuda)? {
            let w = w?.path();
            if w.extension().is_some_and(|e| e == "whl") {
                unpack(&w, &dir, |n| n.contains("/lib/") && n.contains(".so"))?;
            }
        }
    }
    if !lib.is_file() {
        bail!("{} did not contain {lib_in_wheel}", wheel.display());
    }
    fs::write(&stamp, format!("{}=={ORT_VERSION}\n", pin.package))?;
    eprintln!("ONNX Runtime ready: {}", lib.display());
    Ok(lib)
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn demo() -> Result<()> {
    let lib = setup(false)?;
    let root = root();
    run(cargo().current_dir(&root).args(["build", "--release", "-p", "latentforge-cli"]))?;
    let exe = root.join("target/release/latentforge");
    let out = root.join("target/demo");
    fs::create_dir_all(&out)?;
    run(Command::new(&exe).env("LATENTFORGE_ORT", &lib).arg("models"))?;
    let samples = root.join("models/samples");
    let mut inputs: Vec<PathBuf> = fs::read_dir(&samples)
        .with_context(|| format!("{} is missing", samples.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "exr"))
        .collect();
    inputs.sort();
    run(Command::new(&exe).env("LATENTFORGE_ORT", &lib).arg("denoise").args(&inputs).arg("--out-dir").arg(&out))?;
    // The same frames without their passes, to show what albedo/normal add.
    let color_only = out.join("color-only");
    run(Command::new(&exe)
        .env("LATENTFORGE_ORT", &lib)
        .args(["denoise", "--no-aux", "--quiet"])
        .args(&inputs)
        .arg("--out-dir")
        .arg(&color_only))?;
    // Grooves: MIDI + WAV from a factory preset.
    let grooves = out.join("grooves");
    if grooves.exists() {
        fs::remove_dir_all(&grooves)?;
    }
    run(Command::new(&exe)
        .env("LATENTFORGE_ORT", &lib)
        .args(["groove", "--preset", "funk-pocket", "--count", "2", "--bars", "4", "--out-dir"])
        .arg(&grooves))?;
    // A sparser groove at 120 BPM, where each drum is heard decaying before the next hit.
    run(Command::new(&exe)
        .env("LATENTFORGE_ORT", &lib)
        .args(["groove", "--preset", "sparse-halftime", "--count", "1", "--bars", "4", "--bpm", "120", "--out-dir"])
        .arg(&grooves))?;
    // Textures: a preset's material with its PBR maps, and a contact sheet.
    let textures = out.join("textures");
    if textures.exists() {
        fs::remove_dir_all(&textures)?;
    }
    run(Command::new(&exe)
        .env("LATENTFORGE_ORT", &lib)
        .args([
            "texture",
            "generate",
            "--preset",
            "mossy-rock",
            "--count",
            "4",
            "--size",
            "512",
            "--sheet",
            "--out-dir",
        ])
        .arg(&textures))?;
    // Variations of a bundled PBR set (cube2-data's stone tiles, CC-BY-3.0): every map in step.
    let variations = out.join("variations");
    if variations.exists() {
        fs::remove_dir_all(&variations)?;
    }
    run(Command::new(&exe)
        .args(["texture", "vary"])
        .arg(root.join("tests/fixtures/materials/stone_tiles"))
        .args(["--count", "4", "--size", "1024", "--sheet", "--save-coords", "--out-dir"])
        .arg(&variations))?;
    // The bundled stone tiles upscaled 4x, every map (tiling kept, normals renormalised).
    let upscaled = out.join("upscaled");
    let set = root.join("tests/fixtures/materials/stone_tiles");
    let maps: Vec<PathBuf> =
        ["Color", "Height", "Normal"].iter().map(|m| set.join(format!("stone_tiles_{m}.png"))).collect();
    run(Command::new(&exe)
        .env("LATENTFORGE_ORT", &lib)
        .arg("upscale")
        .args(&maps)
        .args(["--scale", "4", "--force", "--out-dir"])
        .arg(&upscaled))?;
    // The watch service over the sample frames, once: what a render wrangler leaves running.
    let watched = out.join("watched");
    run(Command::new(&exe)
        .env("LATENTFORGE_ORT", &lib)
        .arg("watch")
        .arg(&samples)
        .args(["--once", "--reset", "--out-dir"])
        .arg(&watched))?;
    println!("\nDemo done. Denoised frames (all passes kept): {}", out.display());
    println!("Colour-only model results: {}", color_only.display());
    println!("Noisy inputs: {}", samples.display());
    println!("Grooves (MIDI + WAV): {}", grooves.display());
    println!("Textures (albedo + height, normal, roughness; sheet.png): {}", textures.display());
    println!("Stone tiles upscaled 4x (colour, height, normal): {}", upscaled.display());
    println!("The watch service's outputs and journal: {}", watched.display());
    println!("The Latent Groove plugin: `cargo xtask bundle`, then see README (Latent Groove).");
    Ok(())
}

/// A virtual environment with the project's Python tools (ruff; numpy and Pillow for the texture
/// metrics; pyoidn, Intel OIDN, for the denoiser's equivalence test and benchmark), in the
/// git-ignored work folder.
fn tools_venv() -> Result<PathBuf> {
    let venv = root().join(".work/tools-venv");
    let py = venv.join("bin/python");
    if !py.is_file() {
        run(Command::new(python()).args(["-m", "venv"]).arg(&venv))?;
    }
    let ready = venv.join("bin/ruff").is_file()
        && Command::new(&py).args(["-c", "import numpy, PIL, pyoidn"]).status().is_ok_and(|s| s.success());
    if !ready {
        run(Command::new(&py).args(["-m", "pip", "install", "--quiet", RUFF, PYOIDN, "numpy", "pillow"]))
            .context("installing ruff, pyoidn, numpy and pillow from PyPI into .work/tools-venv")?;
    }
    Ok(venv)
}

fn bench(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("denoise") => {}
        Some("texture") => return bench_texture(&args[1..]),
        Some("texture-exemplar") => return bench_texture_exemplar(&args[1..]),
        Some("upscale") => return bench_upscale(),
        Some("watch") => {
            let lib = setup(false)?;
            return run(cargo()
                .current_dir(root())
                .env("LATENTFORGE_ORT", &lib)
                .args(["bench", "-p", "latentforge-cli", "--bench", "watch", "--"])
                .args(&args[1..]));
        }
        Some("groove") => {
            let lib = setup(false)?;
            let clap = bundle(false)?;
            ensure_xvfb()?;
            return run(cargo()
                .current_dir(root())
                .env("LATENTFORGE_ORT", &lib)
                .env("LATENT_GROOVE_CLAP", &clap)
                .args(["bench", "-p", "latent_groove", "--bench", "process"]));
        }
        _ => bail!(
            "usage: cargo xtask bench denoise [--device cpu|cuda] [--frames N] | bench watch [--frames N] | bench texture | \
             bench texture-exemplar [--sizes 512,1024,2048] | bench upscale | bench groove"
        ),
    }
    let gpu = args.windows(2).any(|w| w[0] == "--device" && w[1] == "cuda");
    let lib = setup(gpu)?;
    let root = root();
    let python = tools_venv()?.join("bin/python");
    // The command end to end as well as the engine alone.
    run(cargo().current_dir(&root).args(["build", "--release", "-p", "latentforge-cli"]))?;
    run(cargo()
        .current_dir(&root)
        .env("LATENTFORGE_ORT", &lib)
        .env("LATENTFORGE_BENCH_PYTHON", &python)
        .env("LATENTFORGE_BENCH_CLI", root.join("target/release/latentforge"))
        .args(["bench", "-p", "latentforge", "--bench", "denoise", "--"])
        .args(&args[1..]))
}

/// `cargo xtask bench texture`: builds the release CLI and the baseline (texture-synthesis-cli,
/// `cargo install --locked` into .work/tools), then runs the comparison in the bench harness.
fn bench_texture(extra: &[String]) -> Result<()> {
    let lib = setup(false)?;
    let root = root();
    let baseline = texture_synthesis()?;
    let python = tools_venv()?.join("bin/python");
    // The held-out textures come from the texture data set (Debian packages, a few minutes once).
    if !root.join(".work/texture-data/heldout.npz").is_file() {
        run(Command::new(&python).current_dir(root.join("models/train/texture")).arg("dataset.py"))?;
    }
    run(cargo().current_dir(&root).args(["build", "--release", "-p", "latentforge-cli"]))?;
    run(cargo()
        .current_dir(&root)
        .env("LATENTFORGE_ORT", &lib)
        .env("LATENTFORGE_TOOLS_PYTHON", &python)
        .env("TEXTURE_SYNTHESIS_BIN", &baseline)
        .args(["bench", "-p", "latentforge-cli", "--bench", "texture", "--"])
        .args(extra))
}

/// The baseline texture-synthesis-cli 0.8.3, `cargo install --locked` into .work/tools once.
fn texture_synthesis() -> Result<PathBuf> {
    let tools = root().join(".work/tools");
    let baseline = tools.join("bin/texture-synthesis");
    if !baseline.is_file() {
        run(cargo()
            .args(["install", "--locked", "--quiet", "texture-synthesis-cli", "--version", "0.8.3", "--root"])
            .arg(&tools))
        .context("installing texture-synthesis-cli 0.8.3 from crates.io into .work/tools")?;
    }
    Ok(baseline)
}

/// `cargo xtask bench texture-exemplar`: variations of the committed material fixtures against
/// texture-synthesis-cli on the same exemplars (no model, no Python).
fn bench_texture_exemplar(extra: &[String]) -> Result<()> {
    let baseline = texture_synthesis()?;
    let root = root();
    run(cargo().current_dir(&root).args(["build", "--release", "-p", "latentforge-cli"]))?;
    run(cargo()
        .current_dir(&root)
        .env("TEXTURE_SYNTHESIS_BIN", &baseline)
        .args(["bench", "-p", "latentforge-cli", "--bench", "texture_exemplar", "--"])
        .args(extra))
}

/// `cargo xtask bench upscale`: the upscaler against Lanczos on a generated tileable texture,
/// and the npm ESRGAN-medium anchor when the training environment (.work/venv, with PyTorch,
/// made by `cargo xtask train upscale`) is there to run it.
fn bench_upscale() -> Result<()> {
    let lib = setup(false)?;
    let root = root();
    run(cargo().current_dir(&root).args(["build", "--release", "-p", "latentforge-cli"]))?;
    let mut bench = cargo();
    bench.current_dir(&root).env("LATENTFORGE_ORT", &lib);
    let train_python = root.join(".work/venv/bin/python");
    if Command::new(&train_python).args(["-c", "import torch"]).status().is_ok_and(|s| s.success()) {
        bench.env("UPSCALE_ANCHOR_PYTHON", &train_python);
    } else {
        println!(
            "no .work/venv with PyTorch: the npm ESRGAN anchor is left out (`cargo xtask train upscale` makes it)"
        );
    }
    run(bench.args(["bench", "-p", "latentforge-cli", "--bench", "upscale"]))
}

fn train(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some(what @ ("denoise" | "groove" | "groove-clip" | "drums" | "texture" | "material" | "upscale")) => {
            run(Command::new("bash").arg(root().join("models/train/pipeline.sh")).arg(what))
        }
        _ => bail!("usage: cargo xtask train denoise|groove|groove-clip|drums|texture|material|upscale"),
    }
}

/// The editor test and the groove benchmark open the editor on Xvfb (Mesa's software OpenGL).
fn ensure_xvfb() -> Result<()> {
    apt_install(&["xvfb", "libgl1-mesa-dri"], Path::new("/usr/bin/Xvfb"), "the Latent Groove editor test (Xvfb)")
}

/// Installs Debian `packages` unless `marker` (a file one of them installs) exists.
fn apt_install(packages: &[&str], marker: &Path, why: &str) -> Result<()> {
    if marker.is_file() {
        return Ok(());
    }
    eprintln!("installing Debian's {} for {why}", packages.join(", "));
    let sudo = if Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false) {
        None
    } else {
        Some("sudo")
    };
    let install = |cmd: &mut Command| {
        run(cmd
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "--no-install-recommends"])
            .args(packages))
    };
    if install(&mut apt(sudo)).is_err() {
        // A fresh machine may have no package lists yet.
        run(apt(sudo).arg("update"))?;
        install(&mut apt(sudo)).with_context(|| {
            format!("installing {} (apt-get install); install them yourself or run as root", packages.join(" "))
        })?;
    }
    Ok(())
}

fn apt(sudo: Option<&str>) -> Command {
    match sudo {
        Some(s) => {
            let mut c = Command::new(s);
            c.arg("apt-get");
            c
        }
        None => Command::new("apt-get"),
    }
}

/// Builds the plugin with nice-plug-xtask, then lays out install-ready bundles:
///   <target>/bundled/clap/Latent Groove/{Latent Groove.clap, Resources/}
///   <target>/bundled/vst3/Latent Groove.vst3/Contents/{x86_64-linux/Latent Groove.so, Resources/}
/// Resources hold ONNX Runtime, the plugin's models and the groove presets, so a bundle copied to
/// another machine's plugin folder works there. Returns the CLAP file.
fn bundle(alloc_check: bool) -> Result<PathBuf> {
    let lib = setup(false)?;
    let root = root();
    std::env::set_current_dir(&root)?;
    let target = root.join("target");
    // The allocation check is a debug build (sharing target/debug with the tests) placed in its
    // own folder, so it never replaces the release bundle.
    let (args, home): (Vec<String>, PathBuf) = if alloc_check {
        (vec!["--features".into(), "assert_process_allocs".into()], target.join("alloc-check/bundled"))
    } else {
        (vec!["--release".into()], target.join("bundled"))
    };
    let package = PLUGIN_PACKAGE.to_string();
    nice_plug_xtask::build(std::slice::from_ref(&package), &args)?;
    nice_plug_xtask::bundle(&target, &package, &args, false)?;

    let made = target.join("bundled");
    let clap_file = made.join(format!("{PLUGIN_NAME}.clap"));
    let vst3_dir = made.join(format!("{PLUGIN_NAME}.vst3"));
    let clap_home = home.join("clap").join(PLUGIN_NAME);
    let vst3_home = home.join("vst3").join(format!("{PLUGIN_NAME}.vst3"));
    for old in [&clap_home, &vst3_home] {
        if old.exists() {
            fs::remove_dir_all(old)?;
        }
    }
    fs::create_dir_all(&clap_home)?;
    fs::create_dir_all(vst3_home.parent().unwrap())?;
    fs::rename(&clap_file, clap_home.join(format!("{PLUGIN_NAME}.clap")))?;
    fs::rename(&vst3_dir, &vst3_home)?;
    for resources in [clap_home.join("Resources"), vst3_home.join("Contents/Resources")] {
        fill_resources(&resources, &lib)?;
    }
    let clap = clap_home.join(format!("{PLUGIN_NAME}.clap"));
    println!("CLAP: {}\nVST3: {}", clap_home.display(), vst3_home.display());
    Ok(clap)
}

fn fill_resources(dir: &Path, ort_lib: &Path) -> Result<()> {
    let root = root();
    let ort = dir.join("onnxruntime");
    fs::create_dir_all(&ort)?;
    fs::copy(ort_lib, ort.join(LIBRARY_FILE))?;
    for model in PLUGIN_MODELS {
        let src = root.join("models").join(model);
        let dst = dir.join("models").join(model);
        fs::create_dir_all(&dst)?;
        for f in fs::read_dir(&src).with_context(|| format!("{} is missing", src.display()))? {
            let f = f?.path();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".onnx") || name == "model.toml" || name == "CARD.md" {
                fs::copy(&f, dst.join(&name))?;
            }
        }
    }
    let presets = dir.join("presets");
    fs::create_dir_all(&presets)?;
    for f in fs::read_dir(root.join("presets/groove"))? {
        let f = f?.path();
        if f.extension().is_some_and(|e| e == "toml") {
            fs::copy(&f, presets.join(f.file_name().unwrap()))?;
        }
    }
    Ok(())
}
