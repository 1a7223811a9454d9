"""Trains both denoiser variants side by side on the same batches, in resumable chunks.

    python train.py --minutes 30        # trains 30 more minutes, checkpointing as it goes

Checkpoints live in the git-ignored work folder; a rerun continues from the last one, and a
fresh machine (no checkpoint) starts from scratch.
"""
import argparse
import math
import time

import numpy as np
import torch

import config
from dataset import SceneSet, sample_batch
from model import UNet

PATCH = 64
BATCH = 12
LR = 4e-4
CKPT_EVERY_S = 300


def load_or_init():
    models = {name: UNet(3 * len(groups)) for name, groups in config.VARIANTS.items()}
    opts = {name: torch.optim.Adam(m.parameters(), lr=LR) for name, m in models.items()}
    state = {"step": 0, "seconds": 0.0, "losses": {n: [] for n in models}}
    path = config.CKPT / "last.pt"
    if path.exists():
        ck = torch.load(path, weights_only=False)
        for n in models:
            models[n].load_state_dict(ck["models"][n])
            opts[n].load_state_dict(ck["opts"][n])
        state = ck["state"]
        print(f"resumed at step {state['step']} ({state['seconds'] / 60:.1f} min trained)")
    return models, opts, state


def save(models, opts, state):
    config.CKPT.mkdir(parents=True, exist_ok=True)
    tmp = config.CKPT / "last.pt.tmp"
    torch.save({"models": {n: m.state_dict() for n, m in models.items()},
                "opts": {n: o.state_dict() for n, o in opts.items()}, "state": state}, tmp)
    tmp.rename(config.CKPT / "last.pt")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, required=True, help="training time for this chunk")
    ap.add_argument("--until-minutes", type=float, default=None,
                    help="stop once the run has trained this long in total (over all chunks)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    scenes = SceneSet("train")
    print(f"{len(scenes)} training scenes")
    models, opts, state = load_or_init()
    rng = np.random.default_rng(state["step"] + 12345)
    start = last_ck = time.time()
    seconds0 = state["seconds"]
    budget = args.minutes * 60
    if args.until_minutes is not None:
        budget = min(budget, args.until_minutes * 60 - seconds0)
    planned = (args.until_minutes or args.minutes) * 60
    while time.time() - start < budget:
        # Cosine decay over the planned total time, so a run ends on a low learning rate.
        lr = LR * max(0.05, 0.5 * (1 + math.cos(math.pi * min(1.0, state["seconds"] / planned))))
        for o in opts.values():
            for g in o.param_groups:
                g["lr"] = lr
        x, y = sample_batch(scenes, rng, BATCH, PATCH)
        for name, groups in config.VARIANTS.items():
            inp = x[:, : 3 * len(groups)]
            pred = models[name](inp)
            loss = (pred - y).abs().mean()
            opts[name].zero_grad()
            loss.backward()
            opts[name].step()
            state["losses"][name].append(float(loss))
        state["step"] += 1
        state["seconds"] = seconds0 + time.time() - start
        if state["step"] % 50 == 0:
            msg = " ".join(f"{n}={np.mean(state['losses'][n][-50:]):.4f}" for n in models)
            print(f"step {state['step']} {state['seconds'] / 60:.1f} min lr {lr:.1e} {msg}", flush=True)
        if time.time() - last_ck > CKPT_EVERY_S:
            save(models, opts, state)
            last_ck = time.time()
    save(models, opts, state)
    print(f"saved at step {state['step']}")


if __name__ == "__main__":
    main()
