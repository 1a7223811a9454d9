//! `cargo xtask test`: lint, the plugin bundles, every test binary of the workspace, then the
//! Slurm farm test. Every test binary runs even when one fails (`--no-fail-fast`), the farm test
//! runs after failures too, and the run ends with the list of what failed and how to re-run it,
//! exiting non-zero if anything did: one flaky test never hides the rest of the suite.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};

use crate::{apt_install, bundle, cargo, ensure_xvfb, root, run, setup, tools_venv};

/// The whole suite, as CI runs it. `extra` goes to `cargo test` (a filter, `-- --nocapture`...).
pub fn all(extra: &[String]) -> Result<()> {
    let lib = setup(false)?;
    let root = root();
    lint()?;
    let tools_python = tools_venv()?.join("bin/python");
    // The plugin tests load real bundles: the release one and the allocation-checking debug one.
    let clap = bundle(false)?;
    let alloc_check = bundle(true)?;
    ensure_ardour()?;
    ensure_xvfb()?;
    let mut failures = cargo_test(
        cargo()
            .current_dir(&root)
            .env("LATENTFORGE_ORT", &lib)
            .env("LATENT_GROOVE_CLAP", &clap)
            .env("LATENT_GROOVE_ALLOC_CHECK_CLAP", &alloc_check)
            .env("LATENTFORGE_TOOLS_PYTHON", &tools_python)
            .args(["test", "--workspace", "--no-fail-fast"])
            .args(extra),
    )?;
    if let Err(e) = farm(&lib) {
        failures.push(Failure { what: format!("the farm test: {e:#}"), rerun: "cargo xtask test farm".into() });
    }
    match crate::dist::dist() {
        Ok(made) => {
            if let Err(e) = crate::dist::check(&made.tarball) {
                failures
                    .push(Failure { what: format!("the release test: {e:#}"), rerun: "cargo xtask test dist".into() });
            }
            if let Err(e) = crate::blender::test(&made) {
                let rerun = "cargo xtask test blender".into();
                failures.push(Failure { what: format!("the Blender add-on tests: {e:#}"), rerun });
            }
        }
        Err(e) => failures.push(Failure { what: format!("cargo xtask dist: {e:#}"), rerun: "cargo xtask dist".into() }),
    }
    if failures.is_empty() {
        eprintln!("\ncargo xtask test: every test passed");
        return Ok(());
    }
    eprintln!("\ncargo xtask test: {} failed", failures.len());
    for f in &failures {
        eprintln!("  {}\n      re-run: {}", f.what, f.rerun);
    }
    bail!("{} failed (listed above)", failures.len())
}

/// `cargo xtask test farm`: the Slurm test alone (see xtask/src/farm.rs), on the release CLI.
pub fn farm(lib: &Path) -> Result<()> {
    let root = root();
    run(cargo().current_dir(&root).args(["build", "--release", "-p", "latentforge-cli"]))?;
    crate::farm::test(&root, &root.join("target/release/latentforge"), lib)
}

/// The habits CI keeps: formatted Rust, no clippy warnings, ruff-clean training code.
fn lint() -> Result<()> {
    let root = root();
    run(cargo().current_dir(&root).args(["fmt", "--all", "--check"]))
        .context("the tree is not formatted: run `cargo fmt --all` and commit")?;
    run(cargo().current_dir(&root).args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    let ruff = tools_venv()?.join("bin/ruff");
    run(Command::new(&ruff).current_dir(&root).args(["check", "models/train"]))?;
    // The add-on and its tests, each with its own ruff.toml (Python 3.10 for Blender 3.4).
    run(Command::new(&ruff).current_dir(&root).args(["check", "blender", "tests/blender", "xtask/kit"]))
}

/// The VST3 test runs the plugin in Debian's Ardour 7, headless; install it when missing.
fn ensure_ardour() -> Result<()> {
    apt_install(&["ardour"], Path::new("/usr/bin/ardour7-lua"), "the VST3 test (headless ardour7-lua)")
}

/// One thing that failed and the command that runs it again.
#[derive(Debug, PartialEq)]
struct Failure {
    what: String,
    rerun: String,
}

/// Runs `cargo test`, passing its output through as it comes, and returns what failed: each
/// failing test under its test binary, and each binary that failed with no failing test (a crash,
/// an abort) or that did not build.
fn cargo_test(cmd: &mut Command) -> Result<Vec<Failure>> {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {shown}"))?;
    let scan = Arc::new(Mutex::new(Scan::default()));
    let stdout = pass_through(child.stdout.take().expect("piped"), scan.clone(), Stream::Out);
    let stderr = pass_through(child.stderr.take().expect("piped"), scan.clone(), Stream::Err);
    let status = child.wait().with_context(|| format!("waiting for {shown}"))?;
    for reader in [stdout, stderr] {
        reader.join().expect("an output reader thread");
    }
    let mut failures = std::mem::take(&mut scan.lock().expect("scan lock").failures);
    if !status.success() && failures.is_empty() {
        failures.push(Failure { what: format!("{shown} ({status})"), rerun: "cargo xtask test".into() });
    }
    Ok(failures)
}

#[derive(Clone, Copy)]
enum Stream {
    Out,
    Err,
}

/// Copies a child's output to ours line by line, feeding each line to the scan.
fn pass_through(
    from: impl Read + Send + 'static,
    scan: Arc<Mutex<Scan>>,
    stream: Stream,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(from);
        let mut raw = Vec::new();
        while reader.read_until(b'\n', &mut raw).is_ok_and(|n| n > 0) {
            let _ = match stream {
                Stream::Out => std::io::stdout().write_all(&raw),
                Stream::Err => std::io::stderr().write_all(&raw),
            };
            let line = String::from_utf8_lossy(&raw);
            scan.lock().expect("scan lock").line(stream, line.trim_end());
            raw.clear();
        }
    })
}

/// What `cargo test`'s output has said so far. Cargo names each test binary on stderr before
/// running it (`Running tests/editor.rs (target/...)`), the binary reports its tests on stdout
/// (`test name ... FAILED`), and cargo says on stderr how to re-run a failed binary.
#[derive(Default)]
struct Scan {
    binary: String,
    failed_in_binary: usize,
    failures: Vec<Failure>,
}

impl Scan {
    fn line(&mut self, stream: Stream, line: &str) {
        let line = line.trim();
        match stream {
            Stream::Err => {
                if let Some(rest) = line.strip_prefix("Running ") {
                    self.binary = rest.split(" (").next().unwrap_or(rest).to_string();
                    self.failed_in_binary = 0;
                } else if let Some(rest) = line.strip_prefix("Doc-tests ") {
                    self.binary = format!("doc tests of {rest}");
                    self.failed_in_binary = 0;
                } else if let Some(pass) = line.strip_prefix("error: test failed, to rerun pass ") {
                    let rerun = format!("cargo test {}", pass.trim_matches('`'));
                    let start = self.failures.len() - self.failed_in_binary;
                    for f in &mut self.failures[start..] {
                        f.rerun = format!("{rerun} -- --exact {}", f.what.rsplit(": ").next().unwrap_or_default());
                    }
                    if self.failed_in_binary == 0 {
                        // The binary failed without a failing test: it crashed or aborted.
                        self.failures.push(Failure { what: format!("{} (crashed or aborted)", self.binary), rerun });
                    }
                    self.failed_in_binary = 0;
                } else if line.starts_with("error: could not compile") {
                    self.failures.push(Failure { what: line.to_string(), rerun: "cargo test --workspace".into() });
                }
            }
            Stream::Out => {
                if let Some(name) = line.strip_prefix("test ").and_then(|l| l.strip_suffix(" ... FAILED")) {
                    self.failures.push(Failure {
                        what: format!("{}: {name}", self.binary),
                        rerun: format!("cargo test {name}"),
                    });
                    self.failed_in_binary += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(lines: &[(Stream, &str)]) -> Vec<Failure> {
        let mut scan = Scan::default();
        for (stream, line) in lines {
            scan.line(*stream, line);
        }
        scan.failures
    }

    #[test]
    fn failing_tests_are_named_under_their_binary_with_a_rerun() {
        let got = scan(&[
            (Stream::Err, "     Running tests/editor.rs (target/debug/deps/editor-1a2b)"),
            (Stream::Out, "test the_editor_opens ... FAILED"),
            (Stream::Out, "test another ... ok"),
            (Stream::Err, "error: test failed, to rerun pass `-p latent_groove --test editor`"),
            (Stream::Err, "     Running tests/watch.rs (target/debug/deps/watch-3c4d)"),
            (Stream::Out, "test burst ... ok"),
        ]);
        assert_eq!(
            got,
            vec![Failure {
                what: "tests/editor.rs: the_editor_opens".into(),
                rerun: "cargo test -p latent_groove --test editor -- --exact the_editor_opens".into(),
            }]
        );
    }

    #[test]
    fn a_binary_that_aborts_is_a_failure_of_its_own() {
        let got = scan(&[
            (Stream::Err, "     Running tests/clap_host.rs (target/debug/deps/clap_host-9f)"),
            (Stream::Out, "test release_bundle_plays ... ok"),
            (Stream::Err, "error: test failed, to rerun pass `-p latent_groove --test clap_host`"),
            (Stream::Err, "   Doc-tests latentforge"),
        ]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].what, "tests/clap_host.rs (crashed or aborted)");
        assert_eq!(got[0].rerun, "cargo test -p latent_groove --test clap_host");
    }

    #[test]
    fn passing_output_has_no_failures() {
        let got = scan(&[
            (Stream::Err, "     Running unittests src/lib.rs (target/debug/deps/latentforge-00)"),
            (Stream::Out, "test a ... ok"),
            (Stream::Out, "test result: ok. 1 passed; 0 failed; 0 ignored"),
        ]);
        assert!(got.is_empty());
    }
}
