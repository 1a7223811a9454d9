//! What the CLI benches share: timing a whole command with its peak memory.

use std::process::Command;
use std::time::Instant;

/// Runs a command to completion: wall seconds and the child's peak resident memory in MiB.
/// Linux starts a child's peak from the caller's resident size at the fork, so a bench keeps
/// itself small (no images held) while it measures.
// The child is reaped by wait4, which is also what reports its peak memory.
#[allow(clippy::zombie_processes)]
pub fn measure(cmd: &mut Command) -> (f64, f64) {
    let t = Instant::now();
    let child = cmd.stdout(std::process::Stdio::null()).spawn().expect("starting the command");
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert!(pid > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "{cmd:?} failed");
    (t.elapsed().as_secs_f64(), usage.ru_maxrss as f64 / 1024.0)
}
