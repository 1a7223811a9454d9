//! `cargo xtask gpu-kit [--arch sm_90]`: what a CUDA run of ours needs on the GPU machine, made
//! small enough to travel with the working tree, then checked here on the CPU.
//!
//! The GPU machine has CUDA 13's libraries (in its PyTorch environment) but no ONNX Runtime, and
//! one call of the device tool carries at most 64 MiB with the whole working tree (the tree is
//! about 48 MB). The kit holds the release binary, the GPU wheel's ONNX Runtime with its CUDA
//! provider pruned to one architecture (`fatbin.rs`: 284 MB, 218 MB of it GPU code, to about
//! 80 MB of which 10 MB is code), a 3840x2160 frame made from `models/samples/`, and
//! `check.sh` + `compare.py` (`xtask/kit/`). The models come from the tree, which travels anyway.
//!
//! Even compressed (xz) the kit is larger than what a call has left beside the tree, so it is
//! written as two parts, `.work/gpu-kit/part-1.tar.xz` (binary, ONNX Runtime, frame) and
//! `part-2.tar.xz` (the CUDA provider, the scripts), each checked against the room a call leaves:
//! the first call unpacks part 1 into `.work/gpu-kit/` there (an ignored folder stays between
//! calls while the machine is warm), the second carries part 2 and runs `check.sh`.
//!
//! Before that, the unpacked parts are checked here: `check.sh --expect-cpu` runs every command
//! with `--device cuda` and no GPU, and passes only when each warned with its reason and ran on
//! the CPU.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};
use latentforge::io::frame::{self, FileFormat, Frame};

use crate::{cargo, fatbin, fetch_wheel, root, run, unpack, GPU_WHEEL};

/// Where the kit is made, relative to the repository root (git-ignored).
const KIT: &str = ".work/gpu-kit";
/// What one device call may carry, tree included (the device tool's limit).
const CALL_LIMIT: u64 = 64 << 20;
/// Room kept free under the limit for files the tree gains before the call.
const MARGIN: u64 = 1 << 20;
/// The frame the check denoises.
const FRAME: (usize, usize) = (3840, 2160);
/// The ONNX Runtime files of the GPU wheel the kit needs (not the TensorRT provider).
const ORT_FILES: [&str; 3] =
    ["libonnxruntime.so.1.31.1", "libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"];

pub fn gpu_kit(args: &[String]) -> Result<()> {
    let arch = parse_arch(args)?;
    let root = root();
    let kit = root.join(KIT);
    let stage = kit.join("stage");
    if stage.exists() {
        fs::remove_dir_all(&stage)?;
    }
    run(cargo().current_dir(&root).args(["build", "--release", "-p", "latentforge-cli"]))?;
    let (part1, part2) = (stage.join("part-1"), stage.join("part-2"));
    stage_binary(&root.join("target/release/latentforge"), &part1.join("bin"))?;
    let lib = part1.join("lib");
    let wheel = fetch_wheel(&root.join(".ort/wheels"), &GPU_WHEEL)?;
    unpack(&wheel, &lib, |n| ORT_FILES.iter().any(|f| n == format!("onnxruntime/capi/{f}")))?;
    let provider = lib.join(ORT_FILES[2]);
    let mut bytes = fs::read(&provider)?;
    let pruned = fatbin::prune(&mut bytes, arch).with_context(|| format!("pruning {}", provider.display()))?;
    eprintln!(
        "CUDA provider: kept sm_{arch} code of {} of {} CUDA source files ({:.1} MB), cleared {:.1} MB",
        pruned.kept_files,
        pruned.files,
        pruned.kept_bytes as f64 / 1e6,
        pruned.zeroed_bytes as f64 / 1e6
    );
    fs::create_dir_all(part2.join("lib"))?;
    fs::write(part2.join("lib").join(ORT_FILES[2]), &bytes)?;
    fs::remove_file(&provider)?;
    write_frame(&root.join("models/samples/sample_01_4spp.exr"), &part1.join("frames"))?;
    for (name, text) in
        [("check.sh", include_str!("../kit/check.sh")), ("compare.py", include_str!("../kit/compare.py"))]
    {
        let path = part2.join(name);
        fs::write(&path, text)?;
        make_executable(&path)?;
    }

    let tree = tree_bytes(&root)?;
    let room = CALL_LIMIT - MARGIN - tree.min(CALL_LIMIT - MARGIN);
    println!("working tree: {:.1} MiB; a device call has {:.1} MiB left for the kit", mib(tree), mib(room));
    for (k, part) in [&part1, &part2].into_iter().enumerate() {
        let archive = kit.join(format!("part-{}.tar.xz", k + 1));
        compress(part, &archive)?;
        let size = fs::metadata(&archive)?.len();
        println!("{} ({:.1} MiB)", archive.display(), mib(size));
        ensure!(
            size <= room,
            "{} is {:.1} MiB, over the {:.1} MiB a device call has beside the working tree",
            archive.display(),
            mib(size),
            mib(room)
        );
    }
    fallback_check(&kit, &root)?;
    fs::remove_dir_all(&stage)?;
    println!("{}", device_steps(arch));
    Ok(())
}

/// `--arch sm_90` (the default) as 90.
fn parse_arch(args: &[String]) -> Result<u32> {
    let named = args.windows(2).find(|w| w[0] == "--arch").map(|w| w[1].as_str()).unwrap_or("sm_90");
    named
        .strip_prefix("sm_")
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("--arch {named}: expected an SM architecture such as sm_90 (H100, H200) or sm_89"))
}

/// The release binary without its symbols (what travels; it runs the same).
fn stage_binary(exe: &Path, bin: &Path) -> Result<()> {
    fs::create_dir_all(bin)?;
    let out = bin.join("latentforge");
    run(Command::new("strip").arg("--strip-all").arg("-o").arg(&out).arg(exe))
        .context("stripping the release binary (binutils' strip)")
}

/// The bundled sample repeated to 3840x2160, with its albedo and normal as side files.
fn write_frame(sample: &Path, dir: &Path) -> Result<()> {
    let frame = frame::read_frame(sample, &Default::default())
        .with_context(|| format!("reading {}", sample.display()))?
        .repeated(FRAME.0, FRAME.1);
    fs::create_dir_all(dir)?;
    let write = |name: &str, data: &[f32]| -> Result<()> {
        let f = Frame::new_rgb(FRAME.0, FRAME.1, data.to_vec(), frame.encoding, FileFormat::Pfm);
        frame::write_frame_atomic(&f, &dir.join(name)).with_context(|| format!("writing {name}"))
    };
    write("frame_4k.pfm", &frame.color)?;
    write("frame_4k_albedo.pfm", frame.albedo.as_deref().context("the sample has no albedo")?)?;
    write("frame_4k_normal.pfm", frame.normal.as_deref().context("the sample has no normal")?)
}

/// Bytes of the files a device call sends: tracked and untracked files git does not ignore.
fn tree_bytes(root: &Path) -> Result<u64> {
    let out = Command::new("git")
        .current_dir(root)
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .output()
        .context("running git ls-files")?;
    ensure!(out.status.success(), "git ls-files failed");
    let mut total = 0;
    for name in out.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        total += fs::metadata(root.join(String::from_utf8_lossy(name).as_ref())).map_or(0, |m| m.len());
    }
    Ok(total)
}

/// `tar | xz` of a folder's contents (x86 filter for the executables, a dictionary larger than the
/// 100 MB frame planes so their repeats compress away).
fn compress(dir: &Path, archive: &Path) -> Result<()> {
    let partial = archive.with_extension("xz.partial");
    let status = Command::new("sh")
        .arg("-c")
        .arg(r#"tar -C "$1" -cf - . | xz -T2 --x86 --lzma2=preset=9,dict=192MiB -c > "$2""#)
        .args(["compress", &dir.to_string_lossy(), &partial.to_string_lossy()])
        .status()
        .context("running tar and xz")?;
    ensure!(status.success(), "tar | xz of {} failed ({status})", dir.display());
    fs::rename(&partial, archive)?;
    Ok(())
}

/// Both parts unpacked into a temporary folder, as the device calls will, and `check.sh
/// --expect-cpu` run there: every `--device cuda` command must warn and fall back to the CPU.
fn fallback_check(kit: &Path, root: &Path) -> Result<()> {
    let unpacked = tempfile::tempdir()?;
    for part in ["part-1.tar.xz", "part-2.tar.xz"] {
        run(Command::new("tar").arg("-xJf").arg(kit.join(part)).arg("-C").arg(unpacked.path()))?;
    }
    let out = tempfile::tempdir()?;
    let python = std::env::var("LATENTFORGE_TOOLS_PYTHON").unwrap_or_else(|_| "python3".into());
    let status = Command::new(unpacked.path().join("check.sh"))
        .arg("--expect-cpu")
        .current_dir(root)
        .env("OUT", out.path())
        .env("CHECK_PYTHON", python)
        .status()
        .context("running the kit's check.sh")?;
    if !status.success() {
        bail!("the kit's CPU fallback check failed ({status}); its log is above");
    }
    Ok(())
}

fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))?;
    Ok(())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

/// The two device calls, as the README gives them.
fn device_steps(arch: u32) -> String {
    format!(
        "The kit (sm_{arch}) travels in two device calls on one warm machine, from the repository root:\n  \
         1. carry [\"{KIT}/part-1.tar.xz\"], command: tar -xJf {KIT}/part-1.tar.xz -C {KIT}\n  \
         2. carry [\"{KIT}/part-2.tar.xz\"], command: tar -xJf {KIT}/part-2.tar.xz -C {KIT} && {KIT}/check.sh\n\
         check.sh writes its log to $OUT/gpu-check.log."
    )
}
