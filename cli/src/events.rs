//! `--json` events of the batch commands (`upscale`, `texture maps`; `texture vary` and `denoise`
//! print their own plan and results and take the `progress` heartbeat alone): one JSON object per
//! line on stdout, for front ends such as the Blender add-on.
//!
//! - `{"event":"started","command":"upscale","inputs":[...],"total":N}`
//! - `{"event":"progress","done":D,"total":N,"input":"...","elapsed_s":T}`: when an input is
//!   finished, and at least once a second while one is being worked on
//! - `{"event":"file","input":"...","file":"...","kind":"normal_gl"}`: each output written
//! - `{"event":"error","input":"...","message":"..."}`: the input that failed, the error with its causes
//! - `{"event":"done","files":F,"elapsed_s":T}`
//!
//! Without `--json` nothing is printed here.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::json;

/// How often a `progress` event comes while an input is being worked on.
const HEARTBEAT: Duration = Duration::from_millis(1000);

/// The event stream of one run (inactive without `--json`).
pub struct Events {
    shared: Option<Arc<Shared>>,
    heartbeat: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

struct State {
    started: Instant,
    done: usize,
    total: usize,
    files: usize,
    current: Option<String>,
    finished: bool,
}

impl Events {
    /// Prints `started` and begins the once-a-second `progress` heartbeat, when `json` is on.
    pub fn start(json: bool, command: &str, inputs: &[PathBuf]) -> Events {
        let events = Events::heartbeat(json, inputs.len());
        if json {
            emit(&json!({"event": "started", "command": command, "inputs": inputs, "total": inputs.len()}));
        }
        events
    }

    /// The `progress` events alone (at least once a second) for a command that prints its own
    /// plan and results (`texture vary --json`), when `json` is on.
    pub fn heartbeat(json: bool, total: usize) -> Events {
        if !json {
            return Events { shared: None, heartbeat: None };
        }
        let state = State { started: Instant::now(), done: 0, total, files: 0, current: None, finished: false };
        let shared = Arc::new(Shared { state: Mutex::new(state), wake: Condvar::new() });
        let beat = shared.clone();
        let heartbeat = std::thread::Builder::new().name("json-progress".into()).spawn(move || heartbeat(&beat)).ok();
        Events { shared: Some(shared), heartbeat }
    }

    /// `item` (an input file, a variation) is being worked on now.
    pub fn working_on(&self, item: impl AsRef<str>) {
        self.with(|s| s.current = Some(item.as_ref().to_string()));
    }

    /// One output of `input` is written.
    pub fn file(&self, input: &Path, file: &Path, kind: &str) {
        self.with(|s| {
            s.files += 1;
            emit(&json!({"event": "file", "input": input, "file": file, "kind": kind}));
        });
    }

    /// `item` is finished.
    pub fn finished(&self, item: impl AsRef<str>) {
        self.with(|s| {
            s.done += 1;
            s.current = None;
            emit(&progress_event(s, Some(item.as_ref())));
        });
    }

    /// `input` failed with `error`; the run stops after this.
    pub fn failed(&self, input: &Path, error: &anyhow::Error) {
        self.with(|_| {
            emit(&json!({"event": "error", "input": input, "message": latentforge::error_chain(error.as_ref())}))
        });
    }

    /// Prints `done`.
    pub fn done(self) {
        self.with(|s| emit(&json!({"event": "done", "files": s.files, "elapsed_s": secs(s.started)})));
    }

    fn with(&self, f: impl FnOnce(&mut State)) {
        if let Some(shared) = &self.shared {
            f(&mut shared.state.lock().unwrap_or_else(|p| p.into_inner()));
        }
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            shared.state.lock().unwrap_or_else(|p| p.into_inner()).finished = true;
            shared.wake.notify_all();
        }
        if let Some(thread) = self.heartbeat.take() {
            let _ = thread.join();
        }
    }
}

/// A `progress` event every [`HEARTBEAT`] while an input is being worked on, until the run ends.
fn heartbeat(shared: &Shared) {
    let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
    while !state.finished {
        state = shared.wake.wait_timeout(state, HEARTBEAT).unwrap_or_else(|p| p.into_inner()).0;
        if !state.finished && state.current.is_some() {
            let current = state.current.clone();
            emit(&progress_event(&state, current.as_deref()));
        }
    }
}

fn progress_event(s: &State, input: Option<&str>) -> serde_json::Value {
    json!({"event": "progress", "done": s.done, "total": s.total, "input": input, "elapsed_s": secs(s.started)})
}

fn secs(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 10.0).round() / 10.0
}

/// One line, written whole (callers hold the state lock, so lines never interleave).
fn emit(event: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{event}");
    let _ = out.flush();
}
