//! Finding frames in watched folders: which files are frames (not temp files, not our outputs,
//! not side-file passes), their size and time, and when a file has settled.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A file as a scan saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
}

impl Stamp {
    pub fn of(meta: &fs::Metadata) -> Stamp {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(0);
        Stamp { size: meta.len(), mtime_ns }
    }

    /// How long ago the file was last written.
    fn age(&self) -> Duration {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0);
        Duration::from_nanos(now.saturating_sub(self.mtime_ns).max(0) as u64)
    }
}

/// Decides which files are frames.
#[derive(Debug, Clone)]
pub struct FrameFilter {
    /// Lower-case extensions without the dot.
    pub extensions: Vec<String>,
    /// Side-file patterns (`{stem}_albedo.{ext}`): files they name are passes, not frames.
    pub side_patterns: Vec<String>,
    /// Outputs written beside inputs end their stem with this.
    pub output_suffix: Option<String>,
    /// Outputs written into this folder (it may lie inside a watched one).
    pub output_dir: Option<PathBuf>,
}

impl FrameFilter {
    pub fn is_frame(&self, path: &Path) -> bool {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
        if is_temporary(name) {
            return false;
        }
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
        if !self.extensions.contains(&ext) {
            return false;
        }
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        if self.output_suffix.as_deref().is_some_and(|s| stem.ends_with(s)) {
            return false;
        }
        if self.output_dir.as_deref().is_some_and(|d| path.starts_with(d)) {
            return false;
        }
        !self.side_patterns.iter().any(|p| names_side_file(p, name))
    }
}

/// Names writers use while a file is not finished: hidden files (our own `.latentforge-*`
/// temporaries, rsync's `.name.XXXX`), `*.tmp`, `*.part`, `*.partial`, `*~`.
pub fn is_temporary(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.')
        || name.ends_with('~')
        || [".tmp", ".part", ".partial", ".crdownload"].iter().any(|s| lower.ends_with(s))
}

/// True when a file called `name` is one that `pattern` names for some frame: the pattern's last
/// path component with `{stem}`, `{name}`, `{frame}` and `{ext}` as wildcards.
fn names_side_file(pattern: &str, name: &str) -> bool {
    let last = pattern.rsplit('/').next().unwrap_or(pattern);
    let mut glob = last.to_string();
    for key in ["{stem}", "{name}", "{frame}", "{ext}", "{dir}"] {
        glob = glob.replace(key, "*");
    }
    glob_match(&glob, name)
}

/// `*` matches any run of characters; everything else matches itself.
fn glob_match(glob: &str, text: &str) -> bool {
    let parts: Vec<&str> = glob.split('*').collect();
    if parts.len() == 1 {
        return glob == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text.ends_with(last) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// Every frame under `root` (and its subfolders when `recursive`), with its stamp. Folders that
/// are hidden or are the output folder are not entered.
pub fn scan(root: &Path, recursive: bool, filter: &FrameFilter, out: &mut Vec<(PathBuf, Stamp)>) {
    let Ok(entries) = fs::read_dir(root) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            let hidden = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
            let output = filter.output_dir.as_deref().is_some_and(|d| path.starts_with(d));
            if recursive && !hidden && !output {
                scan(&path, recursive, filter, out);
            }
        } else if meta.is_file() && filter.is_frame(&path) {
            out.push((path, Stamp::of(&meta)));
        }
    }
}

/// Tracks when each file last changed, to tell a finished file from one still being written.
#[derive(Debug, Default)]
pub struct Settle {
    seen: HashMap<PathBuf, (Stamp, Instant)>,
}

impl Settle {
    /// Records `stamp` for `path`; true once the file is non-empty and has not changed for
    /// `settle` (by the clock of this process, or by its modification time for a file that was
    /// already there, so a restart does not wait again).
    pub fn observe(&mut self, path: &Path, stamp: Stamp, settle: Duration) -> bool {
        let now = Instant::now();
        let since = match self.seen.get(path) {
            Some((s, since)) if *s == stamp => *since,
            _ => {
                self.seen.insert(path.to_path_buf(), (stamp, now));
                now
            }
        };
        stamp.size > 0 && (now.duration_since(since) >= settle || stamp.age() >= settle)
    }

    pub fn forget(&mut self, path: &Path) {
        self.seen.remove(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter() -> FrameFilter {
        FrameFilter {
            extensions: vec!["exr".into(), "png".into()],
            side_patterns: vec!["{stem}_albedo.{ext}".into(), "aux/{name}.normal.{frame}.png".into()],
            output_suffix: Some("_dn".into()),
            output_dir: Some(PathBuf::from("/r/out")),
        }
    }

    #[test]
    fn frames_are_told_from_temporaries_outputs_and_passes() {
        let f = filter();
        assert!(f.is_frame(Path::new("/r/shot_0001.exr")));
        assert!(f.is_frame(Path::new("/r/shot_0001.EXR")));
        for not in [
            "/r/shot_0001.jpg",
            "/r/.shot_0001.exr",
            "/r/.latentforge-abc.partial",
            "/r/shot_0001.exr.tmp",
            "/r/shot_0001.exr~",
            "/r/shot_0001_dn.exr",
            "/r/out/shot_0001.exr",
            "/r/shot_0001_albedo.exr",
            "/r/beauty.normal.0001.png",
        ] {
            assert!(!f.is_frame(Path::new(not)), "{not}");
        }
    }

    #[test]
    fn globs_match_like_shells() {
        assert!(glob_match("*_albedo.*", "a_0001_albedo.exr"));
        assert!(!glob_match("*_albedo.*", "a_0001.exr"));
        assert!(glob_match("*.n.*.png", "b.n.0001.png"));
        assert!(!glob_match("a*a", "a"));
        assert!(glob_match("exact", "exact"));
    }

    #[test]
    fn a_file_settles_when_it_stops_changing() {
        let mut s = Settle::default();
        let fresh = || {
            let ns = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as i64;
            Stamp { size: 10, mtime_ns: ns }
        };
        let p = Path::new("/r/a.exr");
        let a = fresh();
        assert!(!s.observe(p, a, Duration::from_millis(40)));
        std::thread::sleep(Duration::from_millis(50));
        assert!(s.observe(p, a, Duration::from_millis(40)));
        let b = Stamp { size: 20, ..fresh() };
        assert!(!s.observe(p, b, Duration::from_millis(40)), "it grew: the clock restarts");
        assert!(!s.observe(Path::new("/r/empty.exr"), Stamp { size: 0, mtime_ns: 0 }, Duration::ZERO), "placeholder");
        assert!(
            s.observe(Path::new("/r/old.exr"), Stamp { size: 5, mtime_ns: 0 }, Duration::from_secs(5)),
            "written long ago"
        );
    }
}
