//! Render farms: Latentforge schedules nothing itself. It makes every job cleanly divisible
//! (`chunk`: frame ranges and the I-th of N equal, disjoint slices, the index possibly taken from
//! a scheduler's environment variable) and speaks to one real scheduler, Slurm (`slurm`: a job
//! array script with one task per chunk, per-task records, and the status of a job).

pub mod chunk;
pub mod slurm;

use std::path::PathBuf;

use crate::io::limits::ProbeError;

pub use chunk::{Chunk, ChunkSpec, FrameRange};

#[derive(Debug, thiserror::Error)]
pub enum FarmError {
    #[error("--frames {spec:?}: {reason} (expected A-B or A-BxSTEP, e.g. 1-240 or 1-240x2)")]
    Frames { spec: String, reason: String },
    #[error("--chunk {spec:?}: {reason} (expected I/N with 0 <= I < N, or VAR/N naming an environment variable such as SLURM_ARRAY_TASK_ID/8)")]
    Chunk { spec: String, reason: String },
    #[error("{path}: --tasks must be at least 1")]
    NoTasks { path: PathBuf },
    #[error("{path}: cannot write the job folder")]
    JobWrite {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot read; is this a job folder written by `latentforge farm slurm`?")]
    JobRead {
        path: PathBuf,
        #[source]
        source: ProbeError,
    },
    #[error("{path}: not a job file written by `latentforge farm slurm`")]
    JobToml {
        path: PathBuf,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("{command}: cannot run it (is Slurm installed and on PATH on this machine?)")]
    SchedulerMissing {
        command: String,
        #[source]
        source: std::io::Error,
    },
    /// The scheduler refused; `stderr` is what it printed.
    #[error("{command}: {stderr}")]
    Scheduler { command: String, stderr: String },
}
