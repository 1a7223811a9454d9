//! `cargo xtask test farm` (also run by `cargo xtask test`): a real one-node Slurm cluster on this
//! machine. Installs Debian's `slurm-wlm` and `munge` when missing, starts `munged`, `slurmctld`
//! and `slurmd` with a generated `slurm.conf` (2 CPUs, state in target/farm-test), then checks
//! with `latentforge farm slurm`: a 4-task array that denoises 24 frames and a 3-task texture job
//! each give exactly the files of a single-process run, every frame done once; a task killed
//! with `scancel` mid-run shows up in `farm status` with its frames, and re-submitting it alone
//! gives the same final set. The daemons are shut down at the end, also on failure.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use latentforge::farm::slurm::ArrayJob;
use latentforge::io::frame;

const FRAMES: usize = 24;
const WAIT: Duration = Duration::from_secs(300);

pub fn test(root: &Path, exe: &Path, ort_lib: &Path) -> Result<()> {
    crate::apt_install(&["slurm-wlm", "munge"], Path::new("/usr/sbin/slurmctld"), "the Slurm farm test")?;
    let dir = root.join("target/farm-test");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)?;
    let cluster = Cluster::start(&dir)?;
    let lf = Latentforge {
        exe: exe.to_path_buf(),
        ort_lib: ort_lib.to_path_buf(),
        models: root.join("models"),
        cluster: &cluster,
        cwd: dir.clone(),
    };

    // 24 frames of 512x384 with Blender's passes: the committed fixture tiled 4x4.
    let shot = dir.join("shot");
    fs::create_dir_all(&shot)?;
    let fixture = frame::read_frame(&root.join("tests/fixtures/noisy_8spp.exr"), &Default::default())?;
    let frame = fixture.repeated(fixture.width * 4, fixture.height * 4);
    for n in 1..=FRAMES {
        frame::write_frame_atomic(&frame, &shot.join(format!("beauty_{n:04}.exr")))?;
    }
    let denoise = |out: &str| -> Vec<String> {
        ["denoise", "shot/beauty_####.exr", "--frames", "1-24", "--out-dir", out].map(String::from).to_vec()
    };
    let texture = |out: &str| -> Vec<String> {
        [
            "texture",
            "generate",
            "--material",
            "rock",
            "--seed",
            "1",
            "--count",
            "6",
            "--size",
            "64",
            "--pbr",
            "--out-dir",
            out,
        ]
        .map(String::from)
        .to_vec()
    };

    eprintln!("farm test: single-process references");
    lf.ok(&denoise("single"))?;
    lf.ok(&texture("tex_single"))?;

    eprintln!("farm test: 4-task denoise array and 3-task texture array");
    let dn = lf.submit(&denoise("farm"), 4, "dn")?;
    let tx = lf.submit(&texture("tex_farm"), 3, "tx")?;
    lf.wait_done(&dn)?;
    lf.wait_done(&tx)?;
    let items = done_items(&dn)?;
    ensure!(items.len() == FRAMES && items.values().all(|&n| n == 1), "every frame exactly once: {items:?}");
    same_files(&dir.join("single"), &dir.join("farm"))?;
    same_files(&dir.join("tex_single"), &dir.join("tex_farm"))?;

    eprintln!("farm test: a task cancelled mid-run, then re-submitted alone");
    let job = lf.submit(&denoise("farm2"), 4, "cancel")?;
    let id = job_id(&job)?;
    wait_for(
        || Ok(fs::read_to_string(job.join("tasks/1.jsonl")).unwrap_or_default().lines().count() >= 2),
        "task 1's first frame",
    )?;
    cluster.run(Command::new("scancel").arg(format!("{id}_1")))?;
    lf.wait_idle(&id)?;
    let status = lf.run(&["farm".into(), "status".into(), job.display().to_string()])?;
    let text = String::from_utf8_lossy(&status.stdout).to_string();
    ensure!(status.status.code() == Some(1), "status exits 1 with a failed task:\n{text}");
    ensure!(
        text.contains("task 1: failed") && text.contains("beauty_00"),
        "the cancelled task and its frames:\n{text}"
    );
    ensure!(text.contains("sbatch --array=1 "), "a re-run hint:\n{text}");
    let resubmitted =
        cluster.output(Command::new("sbatch").args(["--parsable", "--array=1"]).arg(job.join("job.sbatch")))?;
    lf.wait_idle(resubmitted.trim())?;
    let status = lf.run(&["farm".into(), "status".into(), job.display().to_string()])?;
    ensure!(status.status.success(), "all done after the re-run:\n{}", String::from_utf8_lossy(&status.stdout));
    same_files(&dir.join("single"), &dir.join("farm2"))?;
    eprintln!("farm test: passed");
    Ok(())
}

/// The cluster's daemons; shut down when dropped.
struct Cluster {
    conf: PathBuf,
    started_munge: bool,
}

impl Cluster {
    fn start(dir: &Path) -> Result<Self> {
        let munge_ok =
            || Command::new("sh").arg("-c").arg("munge -n | unmunge").output().is_ok_and(|o| o.status.success());
        let started_munge = !munge_ok();
        if started_munge {
            if !Path::new("/etc/munge/munge.key").is_file() {
                crate::run(Command::new("sh").arg("-c").arg(
                    "dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null && \
                     chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key",
                ))?;
            }
            crate::run(Command::new("sh").arg("-c").arg(
                "mkdir -p /run/munge /var/log/munge /var/lib/munge && \
                 chown munge:munge /run/munge /var/log/munge /var/lib/munge && chmod 755 /run/munge",
            ))?;
            crate::run(Command::new("runuser").args(["-u", "munge", "--", "/usr/sbin/munged"]))
                .context("starting munged as user munge")?;
            // Ready when it signs and checks a credential, which is what Slurm will ask of it.
            wait_for(|| Ok(munge_ok()), "munged to answer `munge -n | unmunge`")
                .with_context(|| log_tail(Path::new("/var/log/munge/munged.log")))?;
        }
        let host = String::from_utf8(Command::new("hostname").arg("-s").output()?.stdout)?.trim().to_string();
        let d = dir.display();
        fs::create_dir_all(dir.join("state"))?;
        fs::create_dir_all(dir.join("spool"))?;
        let conf = dir.join("slurm.conf");
        fs::write(
            &conf,
            format!(
                "ClusterName=latentforge-test\nSlurmctldHost={host}\nSlurmUser=root\nSlurmdUser=root\n\
                 AuthType=auth/munge\nSlurmctldPort=16817\nSlurmdPort=16818\n\
                 StateSaveLocation={d}/state\nSlurmdSpoolDir={d}/spool\n\
                 SlurmctldPidFile={d}/slurmctld.pid\nSlurmdPidFile={d}/slurmd.pid\n\
                 SlurmctldLogFile={d}/slurmctld.log\nSlurmdLogFile={d}/slurmd.log\n\
                 ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n\
                 SelectType=select/cons_tres\nSelectTypeParameters=CR_CPU\nReturnToService=2\n\
                 MpiDefault=none\nJobCompType=jobcomp/none\nAccountingStorageType=accounting_storage/none\n\
                 NodeName={host} CPUs=2 State=UNKNOWN\n\
                 PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP\n"
            ),
        )?;
        let cluster = Cluster { conf, started_munge };
        cluster.run(Command::new("slurmctld").arg("-f").arg(&cluster.conf))?;
        cluster.run(Command::new("slurmd").arg("-f").arg(&cluster.conf))?;
        // Ready when the controller answers and reports the node registered and idle.
        wait_for(
            || Ok(cluster.output(Command::new("sinfo").args(["-h", "-o", "%T"])).is_ok_and(|s| s.trim() == "idle")),
            "the Slurm node to come up",
        )
        .with_context(|| format!("{}\n{}", log_tail(&dir.join("slurmctld.log")), log_tail(&dir.join("slurmd.log"))))?;
        Ok(cluster)
    }

    fn command(&self, cmd: &mut Command) -> Result<Output> {
        cmd.env("SLURM_CONF", &self.conf).output().with_context(|| format!("running {cmd:?}"))
    }

    fn run(&self, cmd: &mut Command) -> Result<()> {
        self.output(cmd).map(|_| ())
    }

    fn output(&self, cmd: &mut Command) -> Result<String> {
        let out = self.command(cmd)?;
        ensure!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.command(Command::new("scancel").args(["--user", "root"]));
        let _ = self.command(Command::new("scontrol").arg("shutdown"));
        // Wait for both daemons to exit, so a next run finds the ports free.
        let dir = self.conf.parent().unwrap_or(Path::new("."));
        for pid_file in ["slurmctld.pid", "slurmd.pid"] {
            if let Ok(pid) = fs::read_to_string(dir.join(pid_file)) {
                let stat = PathBuf::from(format!("/proc/{}/stat", pid.trim()));
                // Gone, or a zombie waiting for its parent: either way it has let go of its port.
                let alive = || fs::read_to_string(&stat).is_ok_and(|s| !s.contains(") Z "));
                let start = Instant::now();
                while alive() && start.elapsed() < Duration::from_secs(30) {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        if self.started_munge {
            if let Ok(pid) = fs::read_to_string("/run/munge/munged.pid") {
                let _ = Command::new("kill").arg(pid.trim()).status();
            }
        }
    }
}

/// The release CLI run against the test cluster, from the test folder.
struct Latentforge<'a> {
    exe: PathBuf,
    ort_lib: PathBuf,
    models: PathBuf,
    cluster: &'a Cluster,
    cwd: PathBuf,
}

impl Latentforge<'_> {
    fn run(&self, args: &[String]) -> Result<Output> {
        let mut cmd = Command::new(&self.exe);
        cmd.current_dir(&self.cwd).arg("--ort-lib").arg(&self.ort_lib).arg("--models").arg(&self.models);
        cmd.args(["--threads", "1", "--quiet"]).args(args);
        self.cluster.command(&mut cmd)
    }

    fn ok(&self, args: &[String]) -> Result<()> {
        let out = self.run(args)?;
        ensure!(out.status.success(), "latentforge {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        Ok(())
    }

    /// `farm slurm KIND ... --tasks N --name NAME`; returns the job folder.
    fn submit(&self, job: &[String], tasks: usize, name: &str) -> Result<PathBuf> {
        let mut args = vec!["farm".to_string(), "slurm".into()];
        args.extend(job.iter().cloned());
        args.extend(["--tasks".into(), tasks.to_string(), "--name".into(), name.into()]);
        let out = self.run(&args)?;
        ensure!(out.status.success(), "farm slurm: {}", String::from_utf8_lossy(&out.stderr));
        Ok(self.cwd.join("latentforge-jobs").join(name))
    }

    fn wait_done(&self, job: &Path) -> Result<()> {
        let id = job_id(job)?;
        self.wait_idle(&id)?;
        let out = self.run(&["farm".into(), "status".into(), job.display().to_string()])?;
        ensure!(out.status.success(), "{}: {}", job.display(), String::from_utf8_lossy(&out.stdout));
        Ok(())
    }

    /// Until the scheduler has nothing left of job `id`.
    fn wait_idle(&self, id: &str) -> Result<()> {
        wait_for(
            || Ok(self.cluster.output(Command::new("squeue").args(["-h", "-j", id]))?.trim().is_empty()),
            &format!("job {id} to finish"),
        )
    }
}

/// The Slurm job id `farm slurm` recorded in a job folder.
fn job_id(job: &Path) -> Result<String> {
    ArrayJob::load(job)?.job_ids.first().cloned().context("job.toml has no job id")
}

/// The last lines of a daemon's log, for a message saying it did not start.
fn log_tail(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_else(|e| format!("(unreadable: {e})"));
    let lines: Vec<&str> = text.lines().collect();
    format!("{} ends:\n{}", log.display(), lines[lines.len().saturating_sub(20)..].join("\n"))
}

fn wait_for(mut done: impl FnMut() -> Result<bool>, what: &str) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < WAIT {
        if done()? {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("timed out after {:?} waiting for {what}", WAIT)
}

/// Frames finished without error in a job's task records, with how often each was done.
fn done_items(job: &Path) -> Result<BTreeMap<String, usize>> {
    let mut seen = BTreeMap::new();
    for e in fs::read_dir(job.join("tasks"))? {
        let path = e?.path();
        if path.extension().is_some_and(|x| x == "jsonl") {
            for line in fs::read_to_string(&path)?.lines() {
                let v: serde_json::Value = serde_json::from_str(line)?;
                if let (Some(item), None) = (v.get("item").and_then(|i| i.as_str()), v.get("error")) {
                    *seen.entry(item.to_string()).or_insert(0) += 1;
                }
            }
        }
    }
    Ok(seen)
}

/// The same file names with the same bytes in both folders.
fn same_files(a: &Path, b: &Path) -> Result<()> {
    let list = |d: &Path| -> Result<BTreeMap<String, Vec<u8>>> {
        let mut m = BTreeMap::new();
        for e in fs::read_dir(d).with_context(|| format!("{}", d.display()))? {
            let p = e?.path();
            m.insert(p.file_name().unwrap().to_string_lossy().into_owned(), fs::read(&p)?);
        }
        Ok(m)
    };
    let (x, y) = (list(a)?, list(b)?);
    ensure!(
        x.keys().eq(y.keys()),
        "{} and {} hold different files: {:?} vs {:?}",
        a.display(),
        b.display(),
        x.keys(),
        y.keys()
    );
    for (name, bytes) in &x {
        ensure!(&y[name] == bytes, "{name} differs between {} and {}", a.display(), b.display());
    }
    Ok(())
}
