//! `latentforge farm`: a denoise or texture job spread over a render farm. Latentforge schedules
//! nothing itself: `farm slurm` writes a Slurm job array (one task per `--chunk`) and submits it;
//! `farm status` says which tasks are done, failed or running and which frames failed.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use latentforge::farm::slurm::{self, ArrayJob, TaskState, SCRIPT_FILE};

use crate::{GlobalArgs, EXIT_PARTIAL};

pub const EXAMPLES: &str = "Examples:\n  \
    latentforge farm slurm denoise 'shot/beauty_####.exr' --frames 1-240 --out-dir clean/ --tasks 8\n  \
    latentforge farm slurm denoise 'shot/beauty_####.exr' --frames 1-240 --tasks 8 --gres gpu:1 --partition gpu --dry-run\n  \
    latentforge farm slurm texture generate --material rock --seed 1 --count 2000 --size 2048 --pbr --out-dir tex/ --tasks 20\n  \
    latentforge farm status latentforge-jobs/denoise-1764500000\n\n\
    Each array task runs the same command with --chunk SLURM_ARRAY_TASK_ID/N --skip-existing --json: the\n\
    chunks are disjoint and together the whole job; a re-run keeps finished outputs. Paths in the job\n\
    (the latentforge binary, models, inputs, outputs) must be visible on the farm's nodes (a shared\n\
    file system). --dry-run writes the job folder and prints the script without submitting it.";

#[derive(Args)]
pub struct FarmArgs {
    #[command(subcommand)]
    command: FarmCommand,
}

#[derive(Subcommand)]
enum FarmCommand {
    /// Write a Slurm job array for `denoise ...` or `texture ...` and submit it with sbatch.
    ///
    /// Farm flags (anywhere after the command): --tasks N (required), --partition P, --gres G
    /// (a GPU request also runs the tasks with --device cuda), --cpus-per-task C, --name NAME,
    /// --job-dir DIR (default latentforge-jobs/<name>), --dry-run.
    #[command(after_help = EXAMPLES)]
    Slurm {
        /// `denoise` or `texture`, then that command's arguments and the farm flags.
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, num_args = 1..)]
        job: Vec<String>,
    },
    /// Which tasks of a job are done, failed or running, and which frames failed.
    Status {
        /// A job folder, or a Slurm job id of a job folder under --jobs-root.
        job: String,
        #[arg(long, default_value = "latentforge-jobs", value_name = "DIR")]
        jobs_root: PathBuf,
    },
}

pub fn run(g: &GlobalArgs, args: FarmArgs) -> Result<u8> {
    match args.command {
        FarmCommand::Slurm { job } => submit(g, &job),
        FarmCommand::Status { job, jobs_root } => status(&job, &jobs_root),
    }
}

/// The farm's own flags, taken out of the job's words.
#[derive(Default)]
struct FarmFlags {
    tasks: Option<usize>,
    partition: Option<String>,
    gres: Option<String>,
    cpus_per_task: Option<usize>,
    name: Option<String>,
    job_dir: Option<PathBuf>,
    dry_run: bool,
}

fn split_flags(words: &[String]) -> Result<(FarmFlags, Vec<String>)> {
    let mut flags = FarmFlags::default();
    let mut rest = Vec::new();
    let mut it = words.iter();
    while let Some(w) = it.next() {
        let (key, inline) = match w.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k, Some(v.to_string())),
            _ => (w.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String> {
            inline.clone().or_else(|| it.next().cloned()).with_context(|| format!("{name} needs a value"))
        };
        let number = |name: &str, v: String| -> Result<usize> {
            v.parse().ok().filter(|n| *n > 0).with_context(|| format!("{name} {v:?}: expected a number above 0"))
        };
        match key {
            "--tasks" => flags.tasks = Some(number("--tasks", value("--tasks")?)?),
            "--partition" => flags.partition = Some(value("--partition")?),
            "--gres" => flags.gres = Some(value("--gres")?),
            "--cpus-per-task" => flags.cpus_per_task = Some(number("--cpus-per-task", value("--cpus-per-task")?)?),
            "--name" => flags.name = Some(value("--name")?),
            "--job-dir" => flags.job_dir = Some(PathBuf::from(value("--job-dir")?)),
            "--dry-run" => flags.dry_run = true,
            "--chunk" | "--skip-existing" | "--json" => {
                bail!("{key} is added to every task by `farm slurm`; leave it out of the job")
            }
            _ => rest.push(w.clone()),
        }
    }
    Ok((flags, rest))
}

fn submit(g: &GlobalArgs, words: &[String]) -> Result<u8> {
    let (flags, job) = split_flags(words)?;
    let Some(kind) = job.first().filter(|k| ["denoise", "texture"].contains(&k.as_str())) else {
        bail!("say what each task runs: `farm slurm denoise ...` or `farm slurm texture ...`");
    };
    let Some(tasks) = flags.tasks else { bail!("say how many array tasks: --tasks N") };
    let exe = std::env::current_exe().context("finding the latentforge executable")?;
    let mut words = vec![exe.display().to_string()];
    words.extend(global_words(g, flags.gres.as_deref()));
    words.extend(job.iter().cloned());
    // Every task runs today's spelling of the command.
    let (words, note) = crate::legacy::rewrite(words.into_iter().map(Into::into).collect());
    if let Some(note) = note.filter(|_| !g.quiet) {
        eprintln!("{note}");
    }
    let command: Vec<String> = words.iter().map(|w| w.to_string_lossy().into_owned()).collect();
    // The task's command line must parse here, not fail on every node.
    if let Err(e) = crate::Cli::try_parse_from(&command) {
        bail!("the job's `latentforge {kind}` arguments do not parse:\n{e}");
    }
    let name = flags.name.unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        format!("{kind}-{now}")
    });
    let dir = flags.job_dir.unwrap_or_else(|| PathBuf::from("latentforge-jobs").join(&name));
    if dir.join(slurm::JOB_FILE).exists() {
        bail!("{}: a job folder already; pick another --job-dir or --name", dir.display());
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create the job folder", dir.display()))?;
    let dir = dir.canonicalize()?;
    let mut array = ArrayJob {
        name,
        tasks,
        partition: flags.partition,
        gres: flags.gres,
        cpus_per_task: flags.cpus_per_task,
        workdir: std::env::current_dir()?,
        command,
        job_ids: vec![],
    };
    let script = array.write(&dir)?;
    if flags.dry_run {
        print!("{}", array.script(&dir));
        eprintln!("written to {}; submit with: sbatch {}", script.display(), script.display());
        return Ok(0);
    }
    let id = slurm::submit(&script, None)?;
    array.job_ids.push(id.clone());
    array.save(&dir)?;
    println!("submitted job {id}: {tasks} tasks; status: latentforge farm status {}", dir.display());
    Ok(0)
}

/// The global flags the tasks need, as words: models, runtime, threads, device.
fn global_words(g: &GlobalArgs, gres: Option<&str>) -> Vec<String> {
    let mut w = Vec::new();
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()).display().to_string();
    if let Some(m) = &g.models {
        w.extend(["--models".to_string(), absolute(m)]);
    }
    if let Some(l) = &g.ort_lib {
        w.extend(["--ort-lib".to_string(), absolute(l)]);
    }
    if let Some(t) = g.threads {
        w.extend(["--threads".to_string(), t.to_string()]);
    }
    let gpu = gres.is_some_and(|r| r.contains("gpu"));
    match (g.device, gpu) {
        (crate::DeviceArg::Cuda, _) | (crate::DeviceArg::Auto, true) => w.extend(["--device".into(), "cuda".into()]),
        (crate::DeviceArg::Cpu, _) => w.extend(["--device".into(), "cpu".into()]),
        (crate::DeviceArg::Auto, false) => {}
    }
    w
}

fn status(job: &str, root: &Path) -> Result<u8> {
    let dir = if Path::new(job).join(slurm::JOB_FILE).is_file() {
        PathBuf::from(job)
    } else if let Some(dir) = slurm::find_job(root, job) {
        dir
    } else {
        bail!("{job}: neither a job folder nor the job id of a folder under {}; pass the job folder", root.display());
    };
    let tasks = slurm::status(&dir)?;
    let count = |s: TaskState| tasks.iter().filter(|t| t.state == s).count();
    println!(
        "{} ({} tasks): {} done, {} running, {} pending, {} failed",
        dir.display(),
        tasks.len(),
        count(TaskState::Done),
        count(TaskState::Running),
        count(TaskState::Pending),
        count(TaskState::Failed)
    );
    let failed: Vec<_> = tasks.iter().filter(|t| t.state == TaskState::Failed).collect();
    for t in &failed {
        println!("task {}: failed ({}); {} finished, not finished:", t.index, t.detail, t.finished);
        for item in &t.unfinished {
            println!("  {item}");
        }
    }
    if failed.is_empty() {
        return Ok(0);
    }
    let list: Vec<String> = failed.iter().map(|t| t.index.to_string()).collect();
    println!(
        "re-run them alone (finished outputs are kept): sbatch --array={} {}",
        list.join(","),
        dir.join(SCRIPT_FILE).display()
    );
    Ok(EXIT_PARTIAL)
}
