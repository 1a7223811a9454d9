//! `cargo xtask test blender`: the add-on in Debian's Blender (installed when missing, as Ardour
//! is), enabled from the built zip and running the real CLI of the built release unpacked into a
//! temporary folder: `tests/blender/run.py` headless (`-b`), then `tests/blender/ui_run.py` in a
//! window on Xvfb, where jobs run in the background as they do for artists.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::dist::Archives;
use crate::{apt_install, ensure_xvfb, root, run};

pub fn test(made: &Archives) -> Result<()> {
    apt_install(&["blender"], Path::new("/usr/bin/blender"), "the Blender add-on tests")?;
    let work = tempfile::tempdir()?;
    let release = unpack(work.path(), &made.tarball)?;
    let headless = blender(work.path(), &made.addon, &release, "run.py", &["-b", "--python-exit-code", "1"]);
    run(&mut headless?).context("the Blender add-on tests failed (their output is above)")?;
    ensure_xvfb()?;
    let display = Xvfb::start()?;
    let mut windowed = blender(work.path(), &made.addon, &release, "ui_run.py", &[])?;
    run(windowed.env("DISPLAY", format!(":{}", display.number)))
        .context("the Blender add-on tests in a window failed (their output is above)")
}

/// `cargo xtask blender-pictures`: the README's pictures of the operators (`tests/blender/pictures.py`,
/// headless, on the release's CLI) into `blender/docs/`.
pub fn pictures(made: &Archives) -> Result<()> {
    apt_install(&["blender"], Path::new("/usr/bin/blender"), "the add-on's pictures")?;
    let work = tempfile::tempdir()?;
    let release = unpack(work.path(), &made.tarball)?;
    let mut headless = blender(work.path(), &made.addon, &release, "pictures.py", &["-b", "--python-exit-code", "1"])?;
    run(headless.env("LATENTFORGE_PICTURES", root().join("blender/docs"))).context("making the pictures failed")
}

/// The release tarball unpacked into `work/release/`; its top folder.
fn unpack(work: &Path, tarball: &Path) -> Result<PathBuf> {
    let unpacked = work.join("release");
    fs::create_dir_all(&unpacked)?;
    run(Command::new("tar").arg("-xzf").arg(tarball).arg("-C").arg(&unpacked))?;
    Ok(fs::read_dir(&unpacked)?.next().context("the tarball is empty")??.path())
}

/// `blender --factory-startup [extra] --python tests/blender/<script>` with the release, the
/// zip and Blender's user folders in `work` (fresh folders for each run).
fn blender(work: &Path, addon: &Path, release: &Path, script: &str, extra: &[&str]) -> Result<Command> {
    let work = work.join(script.trim_end_matches(".py"));
    // A Blender that hangs (a window that never draws) ends after 15 minutes instead of never.
    let mut blender = Command::new("timeout");
    blender
        .args(["900", "blender", "--factory-startup"])
        .args(extra)
        .arg("--python")
        .arg(root().join("tests/blender").join(script))
        // Blender's user folders (the installed add-on, its preferences) stay in the scratch folder.
        .env("BLENDER_USER_SCRIPTS", work.join("scripts"))
        .env("BLENDER_USER_CONFIG", work.join("config"))
        .env("HOME", work.join("home"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("LATENTFORGE_") {
            blender.env_remove(key);
        }
    }
    blender
        .env("LATENTFORGE_ADDON_ZIP", addon)
        .env("LATENTFORGE_RELEASE", release)
        .env("LATENTFORGE_TEST_OUT", work.join("out"));
    for dir in ["out", "scripts", "config", "home"] {
        fs::create_dir_all(work.join(dir))?;
    }
    Ok(blender)
}

/// An X server for the windowed tests. Ready when it writes the display number it took
/// (`-displayfd`); `-noreset` keeps it up between clients. Stopped when dropped.
struct Xvfb {
    number: u32,
    process: Child,
}

impl Xvfb {
    fn start() -> Result<Xvfb> {
        let mut process = Command::new("Xvfb")
            .args(["-displayfd", "1", "-noreset", "-screen", "0", "1280x800x24"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting Xvfb")?;
        let mut line = String::new();
        BufReader::new(process.stdout.take().context("Xvfb's stdout")?).read_line(&mut line)?;
        match line.trim().parse() {
            Ok(number) => Ok(Xvfb { number, process }),
            Err(_) => {
                let _ = process.kill();
                bail!("Xvfb did not say which display it took (it printed {line:?})")
            }
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
