"""Train the drum one-shot VAE in resumable chunks: `train.py --minutes 10 --until-minutes 20`.
Augmentation: each example is re-pitched by up to +-4 % (resampled) and its level varied, which
stretches ~270 one-shots into a continuum the decoder can interpolate."""
import argparse
import sys
import time

import numpy as np
import torch

import config
import dataset
from model import DrumVAE

BATCH = 12
LR = 5e-4
BETA = 0.02
FREE_BITS = 0.1
SAVE_EVERY_S = 120


def augment(audio, rng):
    out = np.empty_like(audio)
    for i, x in enumerate(audio):
        r = rng.uniform(0.96, 1.04)
        src = np.arange(config.LENGTH) * r
        out[i] = np.interp(src, np.arange(config.LENGTH), x, right=0.0) * rng.uniform(0.7, 1.0)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--until-minutes", type=float, default=20)
    args = ap.parse_args()
    torch.manual_seed(0)
    audio, lanes = dataset.load("train")
    onehot = np.eye(len(config.LANES), dtype=np.float32)[lanes]
    model = DrumVAE()
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
        frac = min(1.0, state["seconds"] / total_s)
        for g in opt.param_groups:
            g["lr"] = LR * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * frac)))
        beta = BETA * min(1.0, state["step"] / 500)
        idx = rng.integers(0, len(audio), BATCH)
        x = torch.from_numpy(augment(audio[idx], rng))
        loss, parts = model.loss(x, torch.from_numpy(onehot[idx]), beta, FREE_BITS)
        if not torch.isfinite(loss):
            # Skip the batch rather than poison the weights; counted so the card can say so.
            state["skipped"] = state.get("skipped", 0) + 1
            opt.zero_grad()
            continue
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state["step"] += 1
        state["seconds"] += time.time() - t0
        if state["step"] % 100 == 0:
            print(f"step {state['step']} {state['seconds'] / 60:.1f} min rec {parts['rec']:.3f} kl {parts['kl']:.2f}",
                  file=sys.stderr, flush=True)
        if time.time() - last_save > SAVE_EVERY_S:
            save()
            last_save = time.time()
    save()
    print(f"trained {state['seconds'] / 60:.1f} min, {state['step']} steps")


if __name__ == "__main__":
    main()
