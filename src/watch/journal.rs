//! The watch journal: one SQLite database (`.latentforge-watch.db`) in the output folder that
//! records every frame's outcome, so a restarted service skips finished frames, redoes changed
//! ones and never does one twice. SQLite because pipeline tools can read it as it is (`sqlite3`,
//! Python's `sqlite3`), and a commit survives the process being killed at any moment.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension};

use super::WatchError;

/// File name of the journal inside the output folder.
pub const JOURNAL_FILE: &str = ".latentforge-watch.db";
const SCHEMA_VERSION: &str = "1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Seen complete and queued; not finished (yet, or the service stopped first).
    Pending,
    Done,
    Failed,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Done => "done",
            State::Failed => "failed",
        }
    }

    fn parse(s: &str) -> State {
        match s {
            "done" => State::Done,
            "failed" => State::Failed,
            _ => State::Pending,
        }
    }
}

/// What the journal knows of one input frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub input: PathBuf,
    pub output: PathBuf,
    /// Size and modification time of the input when it was taken.
    pub size: u64,
    pub mtime_ns: i64,
    /// sha256 of the input's bytes, once read.
    pub sha256: Option<String>,
    pub state: State,
    pub attempts: u32,
    /// Why it failed (the last error), for `Failed`.
    pub reason: Option<String>,
}

pub struct Journal {
    conn: Connection,
    path: PathBuf,
}

impl Journal {
    /// Opens (or creates) the journal at `path`. A journal that cannot be read is moved aside and
    /// rebuilt; the returned warning says so.
    pub fn open(path: &Path) -> Result<(Journal, Option<String>), WatchError> {
        match Self::open_checked(path) {
            Ok(j) => Ok((j, None)),
            Err(reason) => {
                let aside = path.with_extension(format!("db.corrupt-{}", unix_now()));
                let moved = std::fs::rename(path, &aside).is_ok();
                for side in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{side}", path.display()));
                }
                let journal = Self::open_checked(path)
                    .map_err(|source| WatchError::Journal { path: path.to_path_buf(), source })?;
                let kept = if moved { format!("; the old file is kept as {}", aside.display()) } else { String::new() };
                let warning = format!(
                    "{}: journal unreadable ({reason}); rebuilt it: frames whose outputs are intact are not redone{kept}",
                    path.display()
                );
                Ok((journal, Some(warning)))
            }
        }
    }

    fn open_checked(path: &Path) -> Result<Journal, rusqlite::Error> {
        let conn = Connection::open(path)?;
        let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(rusqlite::Error::InvalidQuery);
        }
        // WAL: readers (`watch status`) never block the service; NORMAL sync is durable against a
        // killed process, which is what the journal must survive.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS frames (
                 input TEXT PRIMARY KEY,
                 output TEXT NOT NULL,
                 size INTEGER NOT NULL,
                 mtime_ns INTEGER NOT NULL,
                 sha256 TEXT,
                 state TEXT NOT NULL,
                 attempts INTEGER NOT NULL,
                 reason TEXT,
                 updated_unix INTEGER NOT NULL
             );",
        )?;
        let version: Option<String> =
            conn.query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| r.get(0)).optional()?;
        match version.as_deref() {
            None => {
                conn.execute("INSERT INTO meta (key, value) VALUES ('schema', ?1)", [SCHEMA_VERSION])?;
            }
            Some(SCHEMA_VERSION) => {}
            Some(_) => return Err(rusqlite::Error::InvalidQuery),
        }
        Ok(Journal { conn, path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: rusqlite::Error) -> WatchError {
        WatchError::Journal { path: self.path.clone(), source }
    }

    pub fn get(&self, input: &Path) -> Result<Option<Entry>, WatchError> {
        self.conn
            .query_row(
                "SELECT input, output, size, mtime_ns, sha256, state, attempts, reason FROM frames WHERE input = ?1",
                [input.to_string_lossy()],
                row_to_entry,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn put(&self, e: &Entry) -> Result<(), WatchError> {
        self.conn
            .execute(
                "INSERT INTO frames (input, output, size, mtime_ns, sha256, state, attempts, reason, updated_unix)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(input) DO UPDATE SET output = ?2, size = ?3, mtime_ns = ?4, sha256 = ?5, state = ?6,
                     attempts = ?7, reason = ?8, updated_unix = ?9",
                params![
                    e.input.to_string_lossy(),
                    e.output.to_string_lossy(),
                    e.size as i64,
                    e.mtime_ns,
                    e.sha256,
                    e.state.as_str(),
                    e.attempts,
                    e.reason,
                    unix_now()
                ],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Forgets one frame (its input is gone).
    pub fn forget(&self, input: &Path) -> Result<(), WatchError> {
        self.conn
            .execute("DELETE FROM frames WHERE input = ?1", [input.to_string_lossy()])
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Every entry, sorted by input path.
    pub fn all(&self) -> Result<Vec<Entry>, WatchError> {
        let mut stmt = self
            .conn
            .prepare("SELECT input, output, size, mtime_ns, sha256, state, attempts, reason FROM frames ORDER BY input")
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], row_to_entry).map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// Forgets the failed frames, so they are tried again. Returns how many.
    pub fn retry_failed(&self) -> Result<usize, WatchError> {
        self.conn.execute("DELETE FROM frames WHERE state = 'failed'", []).map_err(|e| self.err(e))
    }

    /// Forgets every frame. Returns how many.
    pub fn reset(&self) -> Result<usize, WatchError> {
        self.conn.execute("DELETE FROM frames", []).map_err(|e| self.err(e))
    }
}

fn row_to_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        input: PathBuf::from(r.get::<_, String>(0)?),
        output: PathBuf::from(r.get::<_, String>(1)?),
        size: r.get::<_, i64>(2)? as u64,
        mtime_ns: r.get(3)?,
        sha256: r.get(4)?,
        state: State::parse(&r.get::<_, String>(5)?),
        attempts: r.get(6)?,
        reason: r.get(7)?,
    })
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, state: State) -> Entry {
        Entry {
            input: PathBuf::from(format!("/r/{name}.exr")),
            output: PathBuf::from(format!("/o/{name}.exr")),
            size: 10,
            mtime_ns: 5,
            sha256: Some("ab".into()),
            state,
            attempts: 1,
            reason: (state == State::Failed).then(|| "corrupt".to_string()),
        }
    }

    #[test]
    fn entries_survive_reopening_and_can_be_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        {
            let (j, warning) = Journal::open(&path).unwrap();
            assert!(warning.is_none());
            j.put(&entry("a", State::Done)).unwrap();
            j.put(&entry("b", State::Failed)).unwrap();
            let mut c = entry("c", State::Pending);
            j.put(&c).unwrap();
            c.state = State::Done;
            j.put(&c).unwrap();
        }
        let (j, _) = Journal::open(&path).unwrap();
        assert_eq!(j.get(Path::new("/r/a.exr")).unwrap(), Some(entry("a", State::Done)));
        assert_eq!(j.get(Path::new("/r/c.exr")).unwrap().unwrap().state, State::Done, "upserted");
        assert_eq!(j.all().unwrap().len(), 3);
        assert_eq!(j.retry_failed().unwrap(), 1);
        assert_eq!(j.get(Path::new("/r/b.exr")).unwrap(), None);
        assert_eq!(j.reset().unwrap(), 2);
        assert!(j.all().unwrap().is_empty());
    }

    #[test]
    fn a_corrupt_journal_is_rebuilt_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        std::fs::write(&path, b"this is not a database, it is a render log").unwrap();
        let (j, warning) = Journal::open(&path).unwrap();
        let warning = warning.expect("a warning");
        assert!(warning.contains("rebuilt") && warning.contains(JOURNAL_FILE), "{warning}");
        j.put(&entry("a", State::Done)).unwrap();
        assert_eq!(j.all().unwrap().len(), 1);
    }
}
