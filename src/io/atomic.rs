//! Outputs are written to a temporary file in the destination folder and renamed into place, so a
//! crash or a full disk never leaves a half-written file where a user expects a result. The
//! temporary files being written are listed, so a front end stopped by a signal removes them
//! ([`abandon_unfinished`]) instead of leaving `.latentforge-*.partial` files behind.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Temporary files being written now.
static UNFINISHED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn unfinished() -> MutexGuard<'static, Vec<PathBuf>> {
    UNFINISHED.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Takes `path` off the list when dropped (a write that failed or panicked).
struct Listed(PathBuf);

impl Drop for Listed {
    fn drop(&mut self) {
        unfinished().retain(|p| *p != self.0);
    }
}

/// Removes every temporary file being written now and returns the list still locked: hold it
/// until the process exits, so no write in flight is renamed into place after. For a front
/// end's SIGTERM/SIGINT handler.
pub fn abandon_unfinished() -> MutexGuard<'static, Vec<PathBuf>> {
    abandon_where(|_| true)
}

/// [`abandon_unfinished`] for the temporary files `which` picks (a test picks its own folder's,
/// leaving the writes of tests running beside it alone).
fn abandon_where(which: impl Fn(&Path) -> bool) -> MutexGuard<'static, Vec<PathBuf>> {
    let mut list = unfinished();
    list.retain(|tmp| {
        if which(tmp) {
            let _ = fs::remove_file(tmp);
        }
        !which(tmp)
    });
    list
}

/// Creates `path` atomically: `write` fills a temporary file beside it, which is synced and then
/// renamed over `path`. On any error the temporary file is removed.
pub fn write_atomic(path: &Path, write: impl FnOnce(&Path) -> io::Result<()>) -> io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let tmp = tempfile::Builder::new().prefix(".latentforge-").suffix(".partial").tempfile_in(dir)?;
    unfinished().push(tmp.path().to_path_buf());
    let _listed = Listed(tmp.path().to_path_buf());
    write(tmp.path())?;
    // Temporary files are created private (0600); a finished output is an ordinary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    // Renamed under the list's lock: a stop either comes after the rename or removes the file.
    let mut list = unfinished();
    list.retain(|p| p != tmp.path());
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// [`write_atomic`] for bytes already in memory.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic(path, |tmp| fs::write(tmp, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_removes_the_file_being_written_and_it_never_lands() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("big.bin");
        let (started, finish) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
        let target = out.clone();
        let writer = std::thread::spawn(move || {
            write_atomic(&target, |tmp| {
                fs::write(tmp, b"half")?;
                started.0.send(()).unwrap();
                finish.1.recv().unwrap();
                Ok(())
            })
        });
        started.1.recv().unwrap();
        let held = abandon_where(|tmp| tmp.starts_with(dir.path()));
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "the temporary file was not removed: {left:?}");
        finish.0.send(()).unwrap();
        drop(held); // a front end exits here; a test lets the writer go on, to see it cannot land
        assert!(writer.join().unwrap().is_err(), "the write went on after the stop");
        assert!(!out.exists());
    }

    #[test]
    fn failed_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("a.bin");
        let err = write_atomic(&out, |_| Err(io::Error::other("disk full"))).unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        write_bytes_atomic(&out, b"ok").unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"ok");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o644);
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
