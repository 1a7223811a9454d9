"""Train the groove VAE in resumable chunks: `train.py --minutes 10 --until-minutes 30`.

The checkpoint (.work/groove-ckpt/last.pt) holds model, optimiser, step and trained seconds, so a
killed run loses at most one save interval and a fresh machine starts from scratch.
"""
import argparse
import sys
import time

import numpy as np
import torch

import config
import dataset
from model import GrooveVAE

BATCH = 128
LR = 1e-3
BETA = 0.2
FREE_BITS = 0.05       # nats per latent dimension, against posterior collapse
SAVE_EVERY_S = 120


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--until-minutes", type=float, default=30)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    x = torch.from_numpy(dataset.load("train"))
    xv = torch.from_numpy(dataset.load("validation"))
    model = GrooveVAE()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    state = dict(step=0, seconds=0.0)
    config.CKPT.mkdir(parents=True, exist_ok=True)
    ckpt = config.CKPT / "last.pt"
    if ckpt.exists():
        saved = torch.load(ckpt, weights_only=False)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["opt"])
        state = saved["state"]
        print(f"resumed at step {state['step']}, {state['seconds'] / 60:.1f} min", file=sys.stderr)
    total_s = args.until_minutes * 60
    stop_at = time.time() + args.minutes * 60
    rng = np.random.default_rng(state["step"])

    def save():
        tmp = ckpt.with_suffix(".tmp")
        torch.save(dict(model=model.state_dict(), opt=opt.state_dict(), state=state), tmp)
        tmp.replace(ckpt)

    last_save = time.time()
    while state["seconds"] < total_s and time.time() < stop_at:
        t0 = time.time()
        # Cosine decay over the planned total, so chunking does not change the schedule.
        frac = min(1.0, state["seconds"] / total_s)
        for g in opt.param_groups:
            g["lr"] = LR * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * frac)))
        beta = BETA * min(1.0, state["step"] / 2000)     # KL warm-up
        idx = torch.from_numpy(rng.integers(0, len(x), BATCH))
        model.train()
        loss, parts = model.loss(x[idx], beta, FREE_BITS)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state["step"] += 1
        state["seconds"] += time.time() - t0
        if state["step"] % 250 == 0:
            model.eval()
            with torch.no_grad():
                _, vparts = model.loss(xv[:1024], BETA, 0.0)
            print(f"step {state['step']} {state['seconds'] / 60:.1f} min train hit {parts['hit']:.2f} "
                  f"vel {parts['vel']:.3f} off {parts['off']:.3f} kl {parts['kl']:.2f} | "
                  f"val hit {vparts['hit']:.2f} kl {vparts['kl']:.2f}", file=sys.stderr, flush=True)
        if time.time() - last_save > SAVE_EVERY_S:
            save()
            last_save = time.time()
    save()
    print(f"trained {state['seconds'] / 60:.1f} min, {state['step']} steps")


if __name__ == "__main__":
    main()
