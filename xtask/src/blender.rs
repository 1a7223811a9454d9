//! `cargo xtask test blender`: the add-on in Debian's Blender (installed when missing, as Ardour
//! is), headless, enabled from the built zip and running the real CLI of the built release
//! unpacked into a temporary folder; `tests/blender/run.py` holds the tests.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::dist::Archives;
use crate::{apt_install, root, run};

pub fn test(made: &Archives) -> Result<()> {
    apt_install(&["blender"], Path::new("/usr/bin/blender"), "the Blender add-on tests")?;
    let work = tempfile::tempdir()?;
    let unpacked = work.path().join("release");
    fs::create_dir_all(&unpacked)?;
    run(Command::new("tar").arg("-xzf").arg(&made.tarball).arg("-C").arg(&unpacked))?;
    let release = fs::read_dir(&unpacked)?.next().context("the tarball is empty")??.path();
    let mut blender = Command::new("blender");
    blender
        .args(["-b", "--factory-startup", "--python-exit-code", "1", "--python"])
        .arg(root().join("tests/blender/run.py"))
        // Blender's user folders (the installed add-on, its preferences) stay in the scratch folder.
        .env("BLENDER_USER_SCRIPTS", work.path().join("scripts"))
        .env("BLENDER_USER_CONFIG", work.path().join("config"))
        .env("HOME", work.path().join("home"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("LATENTFORGE_") {
            blender.env_remove(key);
        }
    }
    blender
        .env("LATENTFORGE_ADDON_ZIP", &made.addon)
        .env("LATENTFORGE_RELEASE", &release)
        .env("LATENTFORGE_TEST_OUT", work.path().join("out"));
    for dir in ["out", "scripts", "config", "home"] {
        fs::create_dir_all(work.path().join(dir))?;
    }
    run(&mut blender).context("the Blender add-on tests failed (their output is above)")
}
