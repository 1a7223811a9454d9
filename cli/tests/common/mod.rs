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

/// What [`measured`] saw of a command: its exit code, everything it printed, the CPU seconds
/// it used and its peak resident memory.
pub struct Measured {
    pub code: Option<i32>,
    pub text: String,
    pub cpu_s: f64,
    pub peak_mib: f64,
}

/// Runs a command to completion, measuring its CPU time and peak resident memory (CPU time, not
/// wall time: other tests share the cores). Linux starts a child's peak from the caller's size
/// at the fork; a test binary is a few MiB.
// The child is reaped by wait4, which is also what reports its usage.
#[allow(clippy::zombie_processes)]
pub fn measured(cmd: &mut Command) -> Measured {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    let child = cmd
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("starting the command");
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert!(pid > 0, "wait4 failed");
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    Measured {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        text: format!("{}{}", read(&out), read(&err)),
        cpu_s: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        peak_mib: usage.ru_maxrss as f64 / 1024.0,
    }
}
