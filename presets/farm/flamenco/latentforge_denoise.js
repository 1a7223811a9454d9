// Flamenco custom job type: denoise a rendered frame sequence with Latentforge, a chunk of
// frames per task. Copy this file into the `scripts/` folder beside flamenco-manager and
// restart it; "Latentforge Denoise" then shows up as a job type. Each task runs
//   latentforge denoise <input> --frames <first>-<last> --out-dir <out_dir> --skip-existing
// so a re-queued task keeps the frames that are already done. `latentforge` must be on the
// workers' PATH (or set the executable setting), and paths must be valid on the workers.

const JOB_TYPE = {
    label: "Latentforge Denoise",
    settings: [
        { key: "input", type: "string", subtype: "file_path", required: true,
          description: "Noisy frames, #### standing for the frame number (e.g. //renders/shot010/beauty_####.exr)" },
        { key: "out_dir", type: "string", subtype: "dir_path", required: true,
          description: "Folder for the denoised frames (file names are kept)" },
        { key: "frame_start", type: "int32", required: true, description: "First frame" },
        { key: "frame_end", type: "int32", required: true, description: "Last frame" },
        { key: "chunk_size", type: "int32", default: 10, description: "Frames per task" },
        { key: "quality", type: "string", choices: ["high", "balanced", "fast"], default: "high",
          description: "Denoising quality (fast runs OIDN's small networks)" },
        { key: "executable", type: "string", default: "latentforge", visible: "submission",
          description: "The latentforge binary on the workers" },
    ],
};

function compileJob(job) {
    const s = job.settings;
    if (s.frame_end < s.frame_start) {
        throw `frame_end ${s.frame_end} is before frame_start ${s.frame_start}`;
    }
    const size = Math.max(1, s.chunk_size);
    for (let first = s.frame_start; first <= s.frame_end; first += size) {
        const last = Math.min(first + size - 1, s.frame_end);
        const task = author.Task(`denoise-${first}-${last}`, "misc");
        task.addCommand(author.Command("exec", {
            exe: s.executable,
            args: ["denoise", s.input, "--frames", `${first}-${last}`, "--out-dir", s.out_dir,
                   "--quality", s.quality, "--skip-existing"],
        }));
        job.addTask(task);
    }
}
