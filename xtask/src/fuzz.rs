//! `cargo xtask fuzz [--format F] [--minutes N] [--replay FILE]`: long runs of the fuzz harness
//! (tests/fuzz) with fresh seeds, per format. A case that aborts the process (an allocation
//! refused outright, a hang) is kept from the harness's current-case file; every other failing
//! input the harness keeps itself. All of them land in `.work/fuzz/failures/<format>/`, with the
//! command that replays each.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};

use super::{cargo, root};

/// The harness's targets, in its order (tests/fuzz/targets.rs).
const FORMATS: [&str; 9] = ["exr", "png", "tiff", "jpeg", "hdr", "pfm", "midi", "preset", "manifest"];

pub fn fuzz(args: &[String]) -> Result<()> {
    let mut formats: Vec<&str> = FORMATS.to_vec();
    let mut minutes = 1.0f64;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--format" => {
                let f = it.next().context("--format needs a format")?;
                let Some(known) = FORMATS.iter().find(|k| *k == f) else {
                    bail!("--format {f}: one of {}", FORMATS.join(", "));
                };
                formats = vec![known];
            }
            "--minutes" => {
                minutes = it.next().and_then(|m| m.parse().ok()).filter(|m: &f64| *m > 0.0).context("--minutes N")?;
            }
            "--replay" => {
                let file = it.next().context("--replay FILE")?;
                let file = fs::canonicalize(file).with_context(|| format!("{file}: no such file"))?;
                let (_, text) = harness(&harness_binary()?, &[("LF_FUZZ_REPLAY", file.display().to_string())])?;
                return if text.contains("test result: ok") {
                    Ok(())
                } else {
                    bail!("{}: still fails", file.display())
                };
            }
            other => {
                bail!("unknown argument {other}; usage: cargo xtask fuzz [--format F] [--minutes N] [--replay FILE]")
            }
        }
    }
    let binary = harness_binary()?;
    let failures = root().join(".work/fuzz/failures");
    let mut totals: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for format in formats {
        let budget = Duration::from_secs_f64(minutes * 60.0);
        let started = Instant::now();
        while started.elapsed() < budget {
            let left = (budget - started.elapsed()).as_secs_f64().max(1.0);
            // A fresh first seed each round, far from the plain test run's 1..2500.
            let seed = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH)?.as_nanos() as u64 >> 8;
            println!("fuzz {format}: seed {seed}, {left:.0} s");
            let env = [
                ("LF_FUZZ_CURRENT", current_dir().display().to_string()),
                ("LF_FUZZ_FORMAT", format.to_string()),
                ("LF_FUZZ_SECONDS", format!("{left}")),
                ("LF_FUZZ_SEED", seed.to_string()),
            ];
            let (aborted, text) = harness(&binary, &env)?;
            let total = totals.entry(format).or_default();
            for line in text.lines().filter(|l| l.starts_with(&format!("fuzz {format} "))) {
                let cases: u64 = line.split_whitespace().nth(2).and_then(|n| n.parse().ok()).unwrap_or(0);
                let failing: u64 = line.split(", ").find_map(|p| p.strip_suffix(" failing")?.parse().ok()).unwrap_or(0);
                total.0 += cases;
                total.1 += failing;
            }
            if aborted {
                total.1 += 1;
                keep_aborted(format, &failures)?;
            }
        }
    }
    let _ = fs::remove_dir_all(current_dir());
    println!();
    for (format, (cases, failing)) in &totals {
        println!("fuzz {format:<8} {cases:>9} cases, {failing} failing");
    }
    if totals.values().any(|t| t.1 > 0) {
        bail!("failing inputs are in {} (replay one: cargo xtask fuzz --replay FILE)", failures.display());
    }
    Ok(())
}

/// Builds the harness (a test binary) and returns its path: it is run directly, so long runs do
/// not hold cargo's lock on the build folder.
fn harness_binary() -> Result<PathBuf> {
    let out = cargo()
        .current_dir(root())
        .args(["test", "-p", "latentforge", "--test", "fuzz", "--no-run", "--message-format=json"])
        .output()
        .context("building the fuzz harness")?;
    if !out.status.success() {
        bail!("building the fuzz harness failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"]["name"] == "fuzz")
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .context("cargo did not name the fuzz harness's executable")
}

/// Runs the harness once; true when it was killed by a signal (an abort), with what it printed.
fn harness(binary: &Path, env: &[(&str, String)]) -> Result<(bool, String)> {
    let mut cmd = Command::new(binary);
    cmd.current_dir(root()).arg("--nocapture");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().context("running the fuzz harness")?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
    }
    let aborted = out.status.code().is_none();
    Ok((aborted, text))
}

/// Where this run's harness writes each case before reading it (one folder per xtask process,
/// so two runs never read each other's cases).
fn current_dir() -> PathBuf {
    root().join(".work/fuzz/current").join(std::process::id().to_string())
}

/// Keeps the case a process abort left in [`current_dir`].
fn keep_aborted(format: &str, failures: &Path) -> Result<()> {
    let current = current_dir();
    for entry in fs::read_dir(&current)? {
        let path = entry?.path();
        if path.file_stem().is_some_and(|s| s == format) {
            let bytes = fs::read(&path)?;
            let dir = failures.join(format);
            fs::create_dir_all(&dir)?;
            let kept = dir.join(format!("aborted-{}.{}", bytes.len(), path.extension().unwrap().to_string_lossy()));
            fs::write(&kept, bytes)?;
            println!("fuzz {format}: the process aborted; its input is kept as {}", kept.display());
            println!("  replay: cargo xtask fuzz --replay {}", kept.display());
        }
    }
    Ok(())
}
