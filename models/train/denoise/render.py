"""Renders the denoiser's data set: each scene at several low sample counts with albedo and
normal AOVs (as a renderer hands them to a denoiser), plus a converged reference.

Resumable: scenes already on disk are skipped, each file is written to a temp name then renamed.
    python render.py --split val
    python render.py --split train --count 50     # one chunk; run again to continue
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("DRJIT_LIBLLVM_PATH", "/usr/lib/x86_64-linux-gnu/libLLVM-19.so")
import mitsuba as mi  # noqa: E402

mi.set_variant("llvm_ad_rgb")

import config  # noqa: E402
from scenes import scene_dict  # noqa: E402


def texture_split(split: str) -> list[Path]:
    """Every 8th texture is kept for validation scenes only."""
    all_tex = sorted((config.WORK / "textures").glob("*.png"))
    if not all_tex:
        sys.exit("no textures: run `python textures.py` first")
    return [t for i, t in enumerate(all_tex) if (i % 8 == 0) == (split == "val")]


def render_scene(seed: int, textures: list[Path]) -> dict | None:
    d = scene_dict(seed, textures, config.RES)
    depth = d.pop("_max_depth")
    path = {"type": "path", "max_depth": depth}
    d["integrator"] = path
    ref_scene = mi.load_dict(d)
    passes = config.REF_SPP // config.REF_PASS_SPP
    ref = sum(np.array(mi.render(ref_scene, spp=config.REF_PASS_SPP, seed=10_000 + k), dtype=np.float64)
              for k in range(passes)) / passes
    mean = float(ref.mean())
    if not np.isfinite(ref).all() or mean < 1e-3 or mean > 1e3:
        return None  # black or blown-out framing: not a useful training example
    d["integrator"] = {"type": "aov", "aovs": "albedo:albedo,nn:sh_normal", "integrator": path}
    aov_scene = mi.load_dict(d)
    out = {"ref": ref.astype(np.float32)}
    for spp in config.NOISY_SPP:
        img = np.array(mi.render(aov_scene, spp=spp, seed=spp), dtype=np.float32)
        out[f"color_{spp}"] = np.minimum(img[..., 0:3], 65000).astype(np.float16)
        out[f"albedo_{spp}"] = img[..., 3:6].astype(np.float16)
        out[f"normal_{spp}"] = img[..., 6:9].astype(np.float16)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=["train", "val"], required=True)
    ap.add_argument("--count", type=int, default=None, help="render at most this many new scenes")
    args = ap.parse_args()
    total = config.TRAIN_SCENES if args.split == "train" else config.VAL_SCENES
    base = 0 if args.split == "train" else config.VAL_SEED_OFFSET
    out_dir = config.DATA / args.split
    out_dir.mkdir(parents=True, exist_ok=True)
    textures = texture_split(args.split)
    done = 0
    for i in range(total):
        dst = out_dir / f"scene_{i:05d}.npz"
        if dst.exists() or (out_dir / f"scene_{i:05d}.skip").exists():
            continue
        if args.count is not None and done >= args.count:
            break
        t = time.time()
        try:
            data = render_scene(base + i, textures)
        except RuntimeError as e:  # a scene Mitsuba rejects is skipped, not fatal to the run
            print(f"{args.split} {i}: Mitsuba rejected the scene: {e}", flush=True)
            data = None
        if data is None:
            (out_dir / f"scene_{i:05d}.skip").touch()
            print(f"{args.split} {i}: skipped (black, blown out or invalid)", flush=True)
            continue
        tmp = out_dir / f".scene_{i:05d}.tmp.npz"
        np.savez(tmp, **data)
        tmp.rename(dst)
        done += 1
        print(f"{args.split} {i}: {time.time() - t:.1f}s", flush=True)


if __name__ == "__main__":
    main()
