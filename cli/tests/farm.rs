//! Divisible jobs without a cluster: `--frames`, `--chunk` (a number or a scheduler's variable),
//! `--skip-existing`, the `--json` plan, and `farm slurm --dry-run`. The real Slurm cluster test
//! is `cargo xtask test farm`.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use common::{fixture, latentforge, p, text};

/// `n` copies of the fixture as `shot/beauty_0001.exr`…
fn shot(dir: &Path, n: usize) -> String {
    fs::create_dir_all(dir.join("shot")).unwrap();
    for i in 1..=n {
        fs::copy(fixture("noisy_8spp.exr"), dir.join(format!("shot/beauty_{i:04}.exr"))).unwrap();
    }
    p(&dir.join("shot/beauty_####.exr")).to_string()
}

/// The items a `--json` run finished (done or skipped), and its plan.
fn items(stdout: &[u8]) -> (Vec<String>, BTreeSet<String>) {
    let mut plan = Vec::new();
    let mut done = BTreeSet::new();
    for line in String::from_utf8_lossy(stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if v.get("event").is_some() {
            continue; // the progress heartbeat
        } else if let Some(p) = v.get("plan") {
            plan = p.as_array().unwrap().iter().map(|i| i.as_str().unwrap().to_string()).collect();
        } else if v.get("error").is_none() {
            done.insert(v["item"].as_str().unwrap().to_string());
        }
    }
    (plan, done)
}

#[test]
fn chunks_of_a_frame_range_cover_it_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let pattern = shot(dir.path(), 5);
    let out = p(&dir.path().join("out")).to_string();
    let mut all = Vec::new();
    for chunk in ["0/3", "1/3", "TASK_INDEX/3"] {
        let o = Command::new(env!("CARGO_BIN_EXE_latentforge"))
            .args([
                "--threads",
                "2",
                "denoise",
                &pattern,
                "--frames",
                "2-5",
                "--chunk",
                chunk,
                "--json",
                "--out-dir",
                &out,
            ])
            .env("TASK_INDEX", "2")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let (plan, done) = items(&o.stdout);
        assert_eq!(plan.iter().cloned().collect::<BTreeSet<_>>(), done, "chunk {chunk} did its whole plan");
        all.extend(plan);
    }
    let names: Vec<String> = all.iter().map(|f| Path::new(f).file_name().unwrap().to_string_lossy().into()).collect();
    assert_eq!(names, ["beauty_0002.exr", "beauty_0003.exr", "beauty_0004.exr", "beauty_0005.exr"], "{all:?}");
    assert_eq!(fs::read_dir(dir.path().join("out")).unwrap().count(), 4);

    let o = latentforge(&["denoise", &pattern, "--frames", "1-5x2", "--chunk", "3/3", "--out-dir", &out]);
    assert!(!o.status.success() && text(&o).contains("index 3 is not below 3"), "{}", text(&o));
    let o = latentforge(&["denoise", &pattern, "--chunk", "SOME_UNSET_VARIABLE/4", "--out-dir", &out]);
    assert!(text(&o).contains("$SOME_UNSET_VARIABLE is not set"), "{}", text(&o));
    let o = latentforge(&["denoise", &pattern, "--frames", "9-1", "--out-dir", &out]);
    assert!(text(&o).contains("ends before it starts"), "{}", text(&o));
}

#[test]
fn skip_existing_keeps_outputs_that_decode_and_redoes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let pattern = shot(dir.path(), 3);
    let out = dir.path().join("out");
    let o = latentforge(&["denoise", &pattern, "--out-dir", p(&out)]);
    assert!(o.status.success(), "{}", text(&o));
    let good = fs::read(out.join("beauty_0001.exr")).unwrap();
    // A node died while this output was being copied somewhere: it no longer decodes.
    fs::write(out.join("beauty_0002.exr"), &good[..good.len() / 3]).unwrap();
    let o = latentforge(&["denoise", &pattern, "--out-dir", p(&out), "--skip-existing", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let lines = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(lines.matches("\"skipped\":true").count(), 2, "{lines}");
    assert!(lines.lines().any(|l| l.contains("beauty_0002") && l.contains("\"model\"")), "redone: {lines}");
    assert_eq!(fs::read(out.join("beauty_0002.exr")).unwrap(), good, "the same bytes as the first run");
}

#[test]
fn texture_chunks_split_the_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let out = p(dir.path()).to_string();
    // Five 32-pixel rock textures (seeds 1-5), with the slice flags given.
    let texture = |slice: &[&str]| {
        let mut args = vec![
            "texture",
            "generate",
            "--material",
            "rock",
            "--count",
            "5",
            "--size",
            "32",
            "--json",
            "--out-dir",
            &out,
        ];
        args.extend_from_slice(slice);
        latentforge(&args)
    };
    let args = |chunk: &str| texture(&["--chunk", chunk]);
    let (plan0, _) = items(&args("0/2").stdout);
    let o = args("1/2");
    assert!(o.status.success(), "{}", text(&o));
    let (plan1, done1) = items(&o.stdout);
    assert_eq!(plan0, ["rock_s1", "rock_s2"]);
    assert_eq!(plan1, ["rock_s3", "rock_s4", "rock_s5"]);
    assert_eq!(done1.len(), 3);
    let o = texture(&["--frames", "4-9", "--skip-existing"]);
    let (plan, done) = items(&o.stdout);
    assert_eq!((plan, done.len()), (vec!["rock_s4".to_string(), "rock_s5".into()], 2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).matches("\"skipped\":true").count() == 2);
}

#[test]
fn slurm_dry_run_writes_a_job_folder_and_prints_the_script() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = dir.path().join("job");
    let o = latentforge(&[
        "farm",
        "slurm",
        "denoise",
        "shot/beauty_####.exr",
        "--frames",
        "1-240",
        "--tasks",
        "8",
        "--gres",
        "gpu:1",
        "--partition",
        "render",
        "--dry-run",
        "--job-dir",
        p(&jobs),
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    for want in [
        "#SBATCH --array=0-7",
        "#SBATCH --partition=render",
        "#SBATCH --gres=gpu:1",
        "--device cuda",
        "'shot/beauty_####.exr' --frames 1-240",
        "--chunk SLURM_ARRAY_TASK_ID/8 --skip-existing --json",
        "submit with: sbatch",
    ] {
        assert!(t.contains(want), "missing {want:?} in\n{t}");
    }
    assert!(jobs.join("job.sbatch").is_file() && jobs.join("logs").is_dir() && jobs.join("tasks").is_dir());
    let status = latentforge(&["farm", "status", p(&jobs)]);
    assert!(
        text(&status).contains("8 tasks") && text(&status).contains("8 failed"),
        "never submitted: {}",
        text(&status)
    );

    let o = latentforge(&[
        "farm",
        "slurm",
        "denoise",
        "x_####.exr",
        "--tasks",
        "2",
        "--bogus",
        "--dry-run",
        "--job-dir",
        p(&dir.path().join("j2")),
    ]);
    assert!(!o.status.success() && text(&o).contains("do not parse") && text(&o).contains("--bogus"), "{}", text(&o));
    let o = latentforge(&["farm", "slurm", "denoise", "x.exr", "--chunk", "1/2", "--tasks", "2", "--dry-run"]);
    assert!(text(&o).contains("--chunk is added to every task"), "{}", text(&o));
    let o = latentforge(&["farm", "slurm", "denoise", "x.exr", "--dry-run"]);
    assert!(text(&o).contains("--tasks N"), "{}", text(&o));
}
