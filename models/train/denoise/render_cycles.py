"""Renders the Cycles data set with Debian's Blender, one scene per Blender process, resumable:
a scene folder is complete when its `ref.exr` exists (files are renamed into place), so an
interrupted run picks up where it stopped, and a fresh machine starts from nothing.

    python render_cycles.py            # held-out scenes first, then training scenes
Held-out scenes use seeds from HELDOUT_SEED_OFFSET on and are never trained on.
"""
import subprocess
import sys
import time
from pathlib import Path

import config

HERE = Path(__file__).resolve().parent


def scenes():
    for i in range(config.CYCLES_HELDOUT):
        yield config.HELDOUT_SEED_OFFSET + i, config.CYCLES / "heldout" / f"s{config.HELDOUT_SEED_OFFSET + i}"
    for i in range(config.CYCLES_TRAIN):
        yield i, config.CYCLES / "train" / f"s{i}"


def main():
    todo = [(s, d) for s, d in scenes() if not (d / "ref.exr").exists()]
    print(f"{len(todo)} Cycles scenes to render into {config.CYCLES}", flush=True)
    spps = ",".join(str(s) for s in config.CYCLES_SPP)
    for n, (seed, out) in enumerate(todo, 1):
        start = time.time()
        cmd = ["blender", "-b", "--factory-startup", "--python", str(HERE / "cycles_scene.py"), "--",
               str(seed), str(out), f"{config.CYCLES_RES}", spps, str(config.CYCLES_REF_SPP)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0 or not (out / "ref.exr").exists():
            sys.exit(f"scene {seed} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        print(f"[{n}/{len(todo)}] scene {seed}: {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
