//! What every command that writes files shares: the output folder made and checked before any
//! work, the plan of outputs checked before the first is written (no two alike, none an input,
//! none existing unless `--force`), and the progress bar.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use latentforge::io::is_same_file;

use crate::args::usage;

/// Creates the output folder and checks it takes files before any work starts.
pub fn prepare_out_dir(out_dir: &Path) -> Result<()> {
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("{}: cannot create the output folder", out_dir.display()))?;
    let probe = out_dir.join(".latentforge-write-test");
    std::fs::write(&probe, b"").with_context(|| format!("{}: the output folder is not writable", out_dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Refuses to write `out` over `input`, or over an existing file unless `force`.
pub fn check_free(out: &Path, force: bool, input: Option<&Path>) -> Result<()> {
    if let Some(input) = input.filter(|i| is_same_file(out, i)) {
        return usage(format!(
            "{}: the output would overwrite its input {}; choose another output folder",
            out.display(),
            input.display()
        ));
    }
    if out.exists() && !force {
        bail!("{} exists; pass --force to replace it or choose another output folder", out.display());
    }
    Ok(())
}

/// The files a run will write, each checked as it is added.
#[derive(Default)]
pub struct Plan(Vec<PathBuf>);

impl Plan {
    /// Adds `out`, written from `input`: refused when another input already writes it, when it
    /// is `input` itself, or when it exists and `force` is not given.
    pub fn add(&mut self, out: PathBuf, force: bool, input: Option<&Path>) -> Result<()> {
        if self.0.contains(&out) {
            return usage(format!("two inputs would both write {}: give them different names", out.display()));
        }
        check_free(&out, force, input)?;
        self.0.push(out);
        Ok(())
    }
}

/// A progress bar for `n` items, hidden when quiet or for one item.
pub fn progress(quiet: bool, n: usize, what: &str) -> ProgressBar {
    if quiet || n < 2 {
        return ProgressBar::hidden();
    }
    ProgressBar::new(n as u64).with_style(
        ProgressStyle::with_template(&format!("{{spinner}} {{bar:30}} {{pos}}/{{len}} {what} {{msg}}"))
            .expect("static template"),
    )
}
