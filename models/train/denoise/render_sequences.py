"""Renders the animated sequences for the temporal mode with Debian's Blender, one sequence per
Blender process, resumable (cycles_sequence.py skips frames already written; a sequence is done
when its last reference frame exists).

    python render_sequences.py         # orbit shots (tuning, held-out), then static-camera shots
"""
import subprocess
import sys
import time
from pathlib import Path

import config

HERE = Path(__file__).resolve().parent


def sequences():
    """(seed, folder, kind) of every sequence: orbiting cameras, then static-camera shots."""
    groups = [("tune", config.SEQ_TUNE_SEED, config.SEQ_TUNE, "orbit"),
              ("heldout", config.SEQ_HELDOUT_SEED, config.SEQ_HELDOUT, "orbit"),
              ("tune", config.SEQ_STATIC_TUNE_SEED, config.SEQ_STATIC_TUNE, "static"),
              ("heldout", config.SEQ_STATIC_HELDOUT_SEED, config.SEQ_STATIC_HELDOUT, "static")]
    for group, first, count, kind in groups:
        for seed in range(first, first + count):
            yield seed, config.SEQUENCES / group / f"q{seed}", kind


def done(folder):
    return (folder / "ref" / f"shot_{config.SEQ_FRAMES:04d}.exr").exists()


def main():
    todo = [(s, d, k) for s, d, k in sequences() if not done(d)]
    print(f"{len(todo)} sequences to render into {config.SEQUENCES}", flush=True)
    spps = ",".join(str(s) for s in config.SEQ_SPP)
    for n, (seed, out, kind) in enumerate(todo, 1):
        start = time.time()
        cmd = ["blender", "-b", "--factory-startup", "--python", str(HERE / "cycles_sequence.py"), "--",
               str(seed), str(out), config.SEQ_RES, str(config.SEQ_FRAMES), spps, str(config.SEQ_REF_SPP), kind]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0 or not done(out):
            sys.exit(f"sequence {seed} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        print(f"[{n}/{len(todo)}] sequence {seed}: {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
