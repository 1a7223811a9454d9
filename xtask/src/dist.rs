//! `cargo xtask dist`: the release archives. `latentforge-<version>-x86_64-linux.tar.gz` holds
//! `bin/latentforge`, ONNX Runtime (CPU) in `lib/` with its licence, `models/` (ONNX files,
//! manifests, cards, licences, the sample frames), `presets/`, the add-on in `blender/`, the
//! README and the licences; the
//! binary finds `lib/` and `models/` beside itself (`latentforge::infer::release_root`), so the
//! folder runs wherever it is unpacked. `latentforge-blender-<version>.zip` is the Blender add-on
//! (`blender/latentforge/`), installable with Blender's *Install from Disk*.
//!
//! [`check`] is the test of the tarball: unpacked into one temporary folder, moved to another,
//! run with `HOME`, the working folder and every `LATENTFORGE_*` variable elsewhere.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};
use latentforge::infer::{LIBRARY_FILE, MANIFEST_FILE};

use crate::{cargo, root, run, setup};

/// The archives `dist` made.
pub struct Archives {
    pub tarball: PathBuf,
    pub addon: PathBuf,
}

/// Builds the release binary and both archives under `target/dist/`.
pub fn dist() -> Result<Archives> {
    let lib = setup(false)?;
    let root = root();
    run(cargo().current_dir(&root).args(["build", "--release", "-p", "latentforge-cli"]))?;
    let version = version(&root.join("target/release/latentforge"), &lib)?;
    let out = root.join("target/dist");
    let name = format!("latentforge-{version}-x86_64-linux");
    let stage = out.join(&name);
    if stage.exists() {
        fs::remove_dir_all(&stage)?;
    }
    stage_release(&root, &lib, &stage)?;
    let tarball = out.join(format!("{name}.tar.gz"));
    write_tarball(&stage, &name, &tarball)?;
    fs::remove_dir_all(&stage)?;
    let addon = out.join(format!("latentforge-blender-{version}.zip"));
    write_addon_zip(&root.join("blender/latentforge"), &addon)?;
    for file in [&tarball, &addon] {
        let mib = fs::metadata(file)?.len() as f64 / (1 << 20) as f64;
        println!("{} ({mib:.1} MiB)", file.display());
    }
    Ok(Archives { tarball, addon })
}

/// The version the built binary reports (its first `--version` line: `latentforge 0.1.0`).
fn version(exe: &Path, lib: &Path) -> Result<String> {
    let out = Command::new(exe).env("LATENTFORGE_ORT", lib).arg("--version").output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    ensure!(out.status.success(), "{} --version failed:\n{text}", exe.display());
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("latentforge ").map(str::to_string).with_context(|| format!("unexpected --version: {first}"))
}

/// Copies what a release holds into `stage`.
fn stage_release(root: &Path, lib: &Path, stage: &Path) -> Result<()> {
    copy_into(&root.join("target/release/latentforge"), &stage.join("bin"))?;
    let lib_dir = stage.join("lib");
    copy_into(lib, &lib_dir)?;
    // ONNX Runtime's own licence and notices, from the wheel the library came from.
    let wheel = fs::read_dir(root.join(".ort/wheels"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("onnxruntime-")))
        .context("the ONNX Runtime wheel is missing from .ort/wheels: run `cargo xtask setup`")?;
    let notices =
        crate::unpack(&wheel, &lib_dir, |n| n == "onnxruntime/LICENSE" || n == "onnxruntime/ThirdPartyNotices.txt")?;
    ensure!(notices == 2, "{} lacks ONNX Runtime's LICENSE and ThirdPartyNotices.txt", wheel.display());
    fs::rename(lib_dir.join("LICENSE"), lib_dir.join("ONNXRUNTIME-LICENSE"))?;
    stage_models(&root.join("models"), &stage.join("models"))?;
    copy_tree(&root.join("presets"), &stage.join("presets"))?;
    copy_tree(&root.join("LICENSES"), &stage.join("LICENSES"))?;
    // The add-on too: used from here (Blender's script folder set to `<release>/blender`), it
    // runs the `bin/latentforge` beside it with no path to set.
    copy_tree(&root.join("blender/latentforge"), &stage.join("blender/latentforge"))?;
    copy_into(&root.join("README.md"), stage)?;
    Ok(())
}

/// Every model folder (its manifest, the ONNX file it names, its card and other notes), the
/// models' licences and the sample frames; not the training code.
fn stage_models(models: &Path, dest: &Path) -> Result<()> {
    for entry in fs::read_dir(models)? {
        let dir = entry?.path();
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if name == "train" || !dir.is_dir() {
            continue;
        }
        if !dir.join(MANIFEST_FILE).is_file() {
            // LICENSES/, samples/: data beside the models, copied as they are.
            copy_tree(&dir, &dest.join(&name))?;
            continue;
        }
        for file in fs::read_dir(&dir)? {
            let file = file?.path();
            let keep = file.extension().is_some_and(|e| e == "onnx" || e == "toml" || e == "md");
            if file.is_file() && keep {
                copy_into(&file, &dest.join(&name))?;
            }
        }
    }
    Ok(())
}

fn copy_into(file: &Path, dir: &Path) -> Result<()> {
    fs::create_dir_all(dir)?;
    let name = file.file_name().context("a file to copy has a name")?;
    fs::copy(file, dir.join(name)).with_context(|| format!("copying {}", file.display()))?;
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("{} is missing", from.display()))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default();
        if path.is_dir() {
            if name != "__pycache__" {
                copy_tree(&path, &to.join(name))?;
            }
        } else {
            fs::copy(&path, to.join(name))?;
        }
    }
    Ok(())
}

/// `stage` as `<name>/...` in a gzipped tarball, written beside and renamed into place.
fn write_tarball(stage: &Path, name: &str, tarball: &Path) -> Result<()> {
    latentforge::io::atomic::write_atomic(tarball, |tmp| {
        let gz = flate2::write::GzEncoder::new(fs::File::create(tmp)?, flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        tar.follow_symlinks(false);
        tar.append_dir_all(name, stage)?;
        tar.into_inner()?.finish()?.sync_all()
    })
    .with_context(|| format!("writing {}", tarball.display()))
}

/// The add-on folder as `latentforge/...` in a zip: Blender 3.4+ installs it as an add-on
/// (`bl_info`), 4.2+ as an extension (`blender_manifest.toml`, one folder deep is allowed).
fn write_addon_zip(addon: &Path, zip_path: &Path) -> Result<()> {
    ensure!(addon.join("__init__.py").is_file(), "{} has no __init__.py", addon.display());
    let mut files = Vec::new();
    collect_files(addon, &mut files)?;
    files.sort();
    latentforge::io::atomic::write_atomic(zip_path, |tmp| {
        let mut zip = zip::ZipWriter::new(fs::File::create(tmp)?);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for file in &files {
            let inside = Path::new("latentforge").join(file.strip_prefix(addon).expect("under the add-on"));
            zip.start_file(inside.to_string_lossy(), options)?;
            zip.write_all(&fs::read(file)?)?;
        }
        zip.finish()?.sync_all()
    })
    .with_context(|| format!("writing {}", zip_path.display()))
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "__pycache__") {
                collect_files(&path, out)?;
            }
        } else if path.extension().is_none_or(|e| e != "pyc") {
            out.push(path);
        }
    }
    Ok(())
}

/// The tarball runs outside the checkout: unpacked into a temporary folder, moved, then
/// `--version`, `models` and a denoise of a bundled sample run there with `HOME` and the working
/// folder elsewhere and no `LATENTFORGE_*` variable.
pub fn check(tarball: &Path) -> Result<()> {
    let work = tempfile::tempdir()?;
    let unpacked = work.path().join("unpacked");
    fs::create_dir_all(&unpacked)?;
    run(Command::new("tar").arg("-xzf").arg(tarball).arg("-C").arg(&unpacked))?;
    let top = fs::read_dir(&unpacked)?.next().context("the tarball is empty")??.path();
    let moved = work.path().join("moved elsewhere");
    fs::rename(&top, &moved)?;
    let home = work.path().join("home");
    let cwd = work.path().join("cwd");
    fs::create_dir_all(&home)?;
    fs::create_dir_all(&cwd)?;
    let exe = moved.join("bin/latentforge");
    let latentforge = |args: &[&str]| -> Result<String> {
        let mut cmd = Command::new(&exe);
        cmd.current_dir(&cwd).env("HOME", &home).args(args);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("LATENTFORGE_") {
                cmd.env_remove(key);
            }
        }
        let out = cmd.output().with_context(|| format!("running {}", exe.display()))?;
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        if !out.status.success() {
            bail!("`latentforge {}` from the moved release failed:\n{text}", args.join(" "));
        }
        Ok(text)
    };
    let version = latentforge(&["--version"])?;
    let want_lib = moved.join("lib").join(LIBRARY_FILE);
    ensure!(
        version.contains(&want_lib.display().to_string()),
        "the release did not load its own ONNX Runtime:\n{version}"
    );
    ensure!(
        version.contains(&moved.join("models").display().to_string()),
        "the release did not use its models:\n{version}"
    );
    let models = latentforge(&["models"])?;
    ensure!(!models.contains("BROKEN"), "a model of the release is broken:\n{models}");
    let sample = moved.join("models/samples/sample_01_4spp.exr");
    let sample = sample.to_string_lossy();
    latentforge(&["denoise", &sample, "--out-dir", "denoised", "--quiet"])?;
    ensure!(cwd.join("denoised/sample_01_4spp.exr").is_file(), "the denoise wrote no file in the working folder");
    println!("the release runs from {} with no variable set", moved.display());
    Ok(())
}
