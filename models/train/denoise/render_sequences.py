"""Renders the animated sequences for the temporal mode with Debian's Blender, one sequence per
Blender process, resumable (cycles_sequence.py skips frames already written; a sequence is done
when its last reference frame exists).

    python render_sequences.py         # tuning sequences first, then held-out ones
"""
import subprocess
import sys
import time
from pathlib import Path

import config

HERE = Path(__file__).resolve().parent


def sequences():
    for i in range(config.SEQ_TUNE):
        yield config.SEQ_TUNE_SEED + i, config.SEQUENCES / "tune" / f"q{config.SEQ_TUNE_SEED + i}"
    for i in range(config.SEQ_HELDOUT):
        yield config.SEQ_HELDOUT_SEED + i, config.SEQUENCES / "heldout" / f"q{config.SEQ_HELDOUT_SEED + i}"


def done(folder):
    return (folder / "ref" / f"shot_{config.SEQ_FRAMES:04d}.exr").exists()


def main():
    todo = [(s, d) for s, d in sequences() if not done(d)]
    print(f"{len(todo)} sequences to render into {config.SEQUENCES}", flush=True)
    spps = ",".join(str(s) for s in config.SEQ_SPP)
    for n, (seed, out) in enumerate(todo, 1):
        start = time.time()
        cmd = ["blender", "-b", "--factory-startup", "--python", str(HERE / "cycles_sequence.py"), "--",
               str(seed), str(out), config.SEQ_RES, str(config.SEQ_FRAMES), spps, str(config.SEQ_REF_SPP)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0 or not done(out):
            sys.exit(f"sequence {seed} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        print(f"[{n}/{len(todo)}] sequence {seed}: {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
