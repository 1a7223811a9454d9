//! Helpers every CLI test file shares: run the built binary, read what it printed.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A committed test frame in `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(name)
}

/// Runs `latentforge ARGS --threads 2` and waits for it.
pub fn latentforge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_latentforge")).args(args).args(["--threads", "2"]).output().unwrap()
}

/// Everything the command printed, stdout then stderr.
pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}
