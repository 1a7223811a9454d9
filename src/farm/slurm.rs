//! Slurm: a job-array script with one array task per chunk, the records each task writes, and a
//! job's status from those records and the scheduler (`sacct` where the cluster keeps
//! accounting, else `squeue`).
//!
//! A job folder holds `job.sbatch`, `job.toml` (what was submitted, and the job ids), `logs/`
//! (one log per task) and `tasks/`: `I.state` (`running JOBID HOST` while the task runs, then
//! `exit CODE JOBID`) and `I.jsonl` (the command's `--json` lines: first the chunk's plan, then
//! one line per item, with `error` when it failed).

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use super::FarmError;
use crate::io::atomic::write_bytes_atomic;
use crate::io::limits::{read_text_bounded, MAX_TEXT_BYTES};

pub const SCRIPT_FILE: &str = "job.sbatch";
pub const JOB_FILE: &str = "job.toml";
/// The environment variable Slurm sets to the array task's index.
pub const TASK_ID_VAR: &str = "SLURM_ARRAY_TASK_ID";

/// A job array to write and submit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ArrayJob {
    pub name: String,
    pub tasks: usize,
    pub partition: Option<String>,
    pub gres: Option<String>,
    pub cpus_per_task: Option<usize>,
    /// The folder the tasks run in (where relative paths of the command point from).
    pub workdir: PathBuf,
    /// The task command as argv (the latentforge executable first), without `--chunk`.
    pub command: Vec<String>,
    /// Slurm job ids this folder was submitted as (the first submission, then re-submissions).
    #[serde(default)]
    pub job_ids: Vec<String>,
}

/// Quotes one word for bash.
fn quote(word: &str) -> String {
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b)) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

impl ArrayJob {
    /// The sbatch script for a job folder `dir` (absolute paths, so it runs from anywhere).
    pub fn script(&self, dir: &Path) -> String {
        let d = dir.display().to_string();
        let mut s = String::from("#!/bin/bash\n");
        s += &format!("# Latentforge job array `{}`: {} tasks, one chunk of the job each.\n", self.name, self.tasks);
        s += &format!("# Submit by hand: sbatch {}\n", quote(&format!("{d}/{SCRIPT_FILE}")));
        s += &format!("# Status:         latentforge farm status {}\n", quote(&d));
        s += &format!(
            "# Re-run tasks:   sbatch --array=1,5 {}   (finished outputs are kept)\n",
            quote(&format!("{d}/{SCRIPT_FILE}"))
        );
        s += &format!("#SBATCH --job-name={}\n", quote(&self.name));
        s += &format!("#SBATCH --array=0-{}\n", self.tasks - 1);
        s += &format!("#SBATCH --output={}\n", quote(&format!("{d}/logs/task_%a.log")));
        if let Some(p) = &self.partition {
            s += &format!("#SBATCH --partition={}\n", quote(p));
        }
        if let Some(g) = &self.gres {
            s += &format!("#SBATCH --gres={}\n", quote(g));
        }
        if let Some(c) = self.cpus_per_task {
            s += &format!("#SBATCH --cpus-per-task={c}\n");
        }
        s += "\nset -u\n";
        s += &format!("cd {} || exit 1\n", quote(&self.workdir.display().to_string()));
        s += &format!("TASK=${{{TASK_ID_VAR}:?submit this script with sbatch}}\n");
        s += &format!("RECORDS={}\n", quote(&format!("{d}/tasks")));
        s += "JOB=${SLURM_ARRAY_JOB_ID:-${SLURM_JOB_ID:-none}}\n";
        s += "# Records are written to a temporary file and renamed: a reader never sees half of one.\n";
        s += "record() { echo \"$1\" > \"$RECORDS/$TASK.state.tmp\" && mv \"$RECORDS/$TASK.state.tmp\" \"$RECORDS/$TASK.state\"; }\n";
        s += "record \"running $JOB $(hostname -s)\"\n";
        let words: Vec<String> = self.command.iter().map(|w| quote(w)).collect();
        s += &format!(
            "{} \\\n  --chunk {TASK_ID_VAR}/{} --skip-existing --json > \"$RECORDS/$TASK.jsonl\"\n",
            words.join(" "),
            self.tasks
        );
        s += "status=$?\nrecord \"exit $status $JOB\"\nexit $status\n";
        s
    }

    /// Creates the job folder (`logs/`, `tasks/`), writes the script and `job.toml`; returns the
    /// script's path.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, FarmError> {
        let io = |source: std::io::Error| FarmError::JobWrite { path: dir.to_path_buf(), source };
        if self.tasks == 0 {
            return Err(FarmError::NoTasks { path: dir.to_path_buf() });
        }
        fs::create_dir_all(dir.join("logs")).map_err(io)?;
        fs::create_dir_all(dir.join("tasks")).map_err(io)?;
        let script = dir.join(SCRIPT_FILE);
        write_bytes_atomic(&script, self.script(dir).as_bytes()).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).map_err(io)?;
        }
        self.save(dir)?;
        Ok(script)
    }

    pub fn save(&self, dir: &Path) -> Result<(), FarmError> {
        let text = toml::to_string(self).expect("a job serialises");
        write_bytes_atomic(&dir.join(JOB_FILE), text.as_bytes())
            .map_err(|source| FarmError::JobWrite { path: dir.join(JOB_FILE), source })
    }

    pub fn load(dir: &Path) -> Result<Self, FarmError> {
        let path = dir.join(JOB_FILE);
        let text = read_text_bounded(&path, MAX_TEXT_BYTES, "a job file")
            .map_err(|source| FarmError::JobRead { path: path.clone(), source })?;
        toml::from_str(&text).map_err(|source| FarmError::JobToml { path, source: Box::new(source) })
    }
}

/// Submits `script` with `sbatch --parsable` and returns the job id.
pub fn submit(script: &Path, array: Option<&str>) -> Result<String, FarmError> {
    let mut cmd = Command::new("sbatch");
    cmd.arg("--parsable");
    if let Some(a) = array {
        cmd.arg(format!("--array={a}"));
    }
    let out = run(cmd.arg(script))?;
    // --parsable prints "JOBID" or "JOBID;CLUSTER".
    Ok(out.trim().split(';').next().unwrap_or_default().to_string())
}

fn run(cmd: &mut Command) -> Result<String, FarmError> {
    let command = format!("{cmd:?}").replace('"', "");
    let out = cmd.output().map_err(|source| FarmError::SchedulerMissing { command: command.clone(), source })?;
    if !out.status.success() {
        return Err(FarmError::Scheduler { command, stderr: String::from_utf8_lossy(&out.stderr).trim().to_string() });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Where one array task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Queued, not started.
    Pending,
    Running,
    Done,
    /// Exited with an error, or was killed (cancelled, node failure) before it finished.
    Failed,
}

#[derive(Debug, Clone)]
pub struct TaskStatus {
    pub index: usize,
    pub state: TaskState,
    /// Why, for a failed task (exit code, or what the scheduler says).
    pub detail: String,
    /// Items of this chunk (frames, textures) not finished: all of them when it never started.
    pub unfinished: Vec<String>,
    pub finished: usize,
}

/// Status of every task of the job in `dir`.
pub fn status(dir: &Path) -> Result<Vec<TaskStatus>, FarmError> {
    let job = ArrayJob::load(dir)?;
    let records = dir.join("tasks");
    let mut state_files = HashMap::new();
    let mut ids: BTreeSet<String> = job.job_ids.iter().cloned().collect();
    for i in 0..job.tasks {
        if let Ok(text) = fs::read_to_string(records.join(format!("{i}.state"))) {
            let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
            if let Some(id) = words.get(if words.first().map(String::as_str) == Some("exit") { 2 } else { 1 }) {
                if id != "none" {
                    ids.insert(id.clone());
                }
            }
            state_files.insert(i, words);
        }
    }
    let scheduler = Scheduler::query(&ids);
    Ok((0..job.tasks)
        .map(|i| {
            let (planned, finished) = read_plan(&records.join(format!("{i}.jsonl")));
            let (state, detail) = match state_files.get(&i).map(|w| w.iter().map(String::as_str).collect::<Vec<_>>()) {
                Some(w) if w.first() == Some(&"exit") => match w.get(1) {
                    Some(&"0") => (TaskState::Done, String::new()),
                    code => (TaskState::Failed, format!("exit status {}", code.unwrap_or(&"?"))),
                },
                Some(_) => match scheduler.state(i) {
                    Some(s) if s == "RUNNING" || s == "COMPLETING" => (TaskState::Running, String::new()),
                    Some(s) => (TaskState::Failed, format!("{} while running", s.to_lowercase())),
                    None => (TaskState::Failed, "stopped without finishing (cancelled or its node failed)".into()),
                },
                None => match scheduler.state(i) {
                    Some(s) if s == "PENDING" || s == "CONFIGURING" => (TaskState::Pending, String::new()),
                    Some("RUNNING") => (TaskState::Running, String::new()),
                    Some(s) => (TaskState::Failed, format!("{} before it started", s.to_lowercase())),
                    None => (TaskState::Failed, "never ran (cancelled, or the job was not submitted)".into()),
                },
            };
            let unfinished = match &planned {
                Some(items) => items.iter().filter(|it| !finished.contains(*it)).cloned().collect(),
                None => vec![format!("chunk {i} of {} (never started, so its items are not known here)", job.tasks)],
            };
            TaskStatus { index: i, state, detail, unfinished, finished: finished.len() }
        })
        .collect())
}

/// The chunk's planned items and the ones finished (done or skipped as already complete), from
/// a task's `--json` lines.
fn read_plan(path: &Path) -> (Option<Vec<String>>, BTreeSet<String>) {
    let Ok(text) = fs::read_to_string(path) else { return (None, BTreeSet::new()) };
    let mut plan = None;
    let mut finished = BTreeSet::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if let Some(items) = v.get("plan").and_then(|p| p.as_array()) {
            plan = Some(items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect());
        } else if let (Some(item), None) = (v.get("item").and_then(|i| i.as_str()), v.get("error")) {
            finished.insert(item.to_string());
        }
    }
    (plan, finished)
}

/// What the scheduler says about array tasks: `sacct` when accounting is on, else `squeue`.
struct Scheduler {
    /// Array task index -> Slurm state (RUNNING, PENDING, CANCELLED, ...).
    states: HashMap<usize, String>,
}

impl Scheduler {
    fn query(ids: &BTreeSet<String>) -> Self {
        let mut states = HashMap::new();
        if ids.is_empty() {
            return Scheduler { states };
        }
        let list = ids.iter().cloned().collect::<Vec<_>>().join(",");
        // Later submissions (re-runs) come later in the output and win.
        let accounted = run(Command::new("sacct").args(["-n", "-P", "-X", "--format=JobID,State", "-j", &list]));
        if let Some(out) = accounted.ok().map(|o| o.trim().to_string()).filter(|o| !o.is_empty()) {
            for line in out.lines() {
                if let Some((id, state)) = line.split_once('|') {
                    if let Some(task) = id.split_once('_').and_then(|(_, t)| t.parse().ok()) {
                        states.insert(task, state.split_whitespace().next().unwrap_or_default().to_string());
                    }
                }
            }
            return Scheduler { states };
        }
        if let Ok(out) = run(Command::new("squeue").args(["-h", "-r", "-o", "%K %T", "-j", &list])) {
            for line in out.lines() {
                if let Some((task, state)) = line.trim().split_once(' ') {
                    if let Ok(task) = task.parse() {
                        states.insert(task, state.to_string());
                    }
                }
            }
        }
        Scheduler { states }
    }

    fn state(&self, task: usize) -> Option<&str> {
        self.states.get(&task).map(String::as_str)
    }
}

/// The job folder of a Slurm job id, among the folders under `root`.
pub fn find_job(root: &Path, job_id: &str) -> Option<PathBuf> {
    fs::read_dir(root)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|dir| ArrayJob::load(dir).is_ok_and(|j| j.job_ids.iter().any(|id| id == job_id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> ArrayJob {
        ArrayJob {
            name: "denoise-shot".into(),
            tasks: 8,
            partition: Some("render".into()),
            gres: Some("gpu:1".into()),
            cpus_per_task: None,
            workdir: PathBuf::from("/farm/shots"),
            command: vec![
                "/opt/lf/latentforge".into(),
                "denoise".into(),
                "shot/beauty_####.exr".into(),
                "--device".into(),
                "cuda".into(),
            ],
            job_ids: vec![],
        }
    }

    #[test]
    fn the_script_is_a_readable_job_array() {
        let s = job().script(Path::new("/farm/jobs/x"));
        for want in [
            "#SBATCH --array=0-7",
            "#SBATCH --partition=render",
            "#SBATCH --gres=gpu:1",
            "#SBATCH --output=/farm/jobs/x/logs/task_%a.log",
            "'shot/beauty_####.exr'",
            "--chunk SLURM_ARRAY_TASK_ID/8 --skip-existing --json",
            "# Submit by hand: sbatch /farm/jobs/x/job.sbatch",
            "cd /farm/shots || exit 1",
        ] {
            assert!(s.contains(want), "missing {want:?} in\n{s}");
        }
        assert_eq!(quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn status_reads_the_task_records() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = job();
        j.tasks = 3;
        j.write(dir.path()).unwrap();
        let t = dir.path().join("tasks");
        fs::write(t.join("0.state"), "exit 0 none").unwrap();
        fs::write(t.join("0.jsonl"), "{\"plan\":[\"a\",\"b\"]}\n{\"item\":\"a\"}\n{\"item\":\"b\",\"skipped\":true}\n")
            .unwrap();
        fs::write(t.join("1.state"), "exit 1 none").unwrap();
        fs::write(
            t.join("1.jsonl"),
            "{\"plan\":[\"c\",\"d\"]}\n{\"item\":\"c\"}\n{\"item\":\"d\",\"error\":\"bad\"}\n",
        )
        .unwrap();
        let s = status(dir.path()).unwrap();
        assert_eq!((s[0].state, s[0].finished), (TaskState::Done, 2));
        assert_eq!((s[1].state, s[1].unfinished.clone()), (TaskState::Failed, vec!["d".to_string()]));
        assert_eq!(s[2].state, TaskState::Failed, "never ran");
        assert!(s[2].unfinished[0].contains("chunk 2 of 3"));
    }
}
