"""Time-budgeted, resumable training shared by every model (denoise, groove, drums).

A run is cut into chunks (`--minutes`) towards a planned total (`--until-minutes`); the
checkpoint holds model, optimiser, step and trained seconds, so a killed chunk loses at most one
save interval, the next chunk continues the same cosine schedule, and a fresh machine (no
checkpoint) starts from scratch. `pipeline.sh` runs chunks until one exits 0.
"""
import argparse
import sys
import time

import numpy as np
import torch

SAVE_EVERY_S = 120
# Exit status of a chunk that stopped before the planned total: pipeline.sh runs another.
MORE_TO_DO = 75


def parser():
    """The chunk arguments every train.py takes; a model may add its own before parsing."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10, help="length of this chunk")
    ap.add_argument("--until-minutes", type=float, required=True, help="planned total training time")
    return ap


def args():
    return parser().parse_args()


def train(model, opt, ckpt, step, *, lr, minutes, until_minutes, log_every, clip=1.0, seed=0, extra=None):
    """Calls `step(rng, state)` until the chunk or the plan is used up. `step` returns the loss
    (None to skip the batch) and a dict of numbers to log; `state` has `step` and `seconds`.
    `clip` bounds the gradient norm (None: no clipping); `seed` offsets the batch sampler;
    `extra` names more objects with a state_dict (a second optimiser) to checkpoint."""
    extra = extra or {}
    state = dict(step=0, seconds=0.0)
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    if ckpt.exists():
        # On the CPU first: a checkpoint written on a GPU machine resumes on any machine.
        saved = torch.load(ckpt, weights_only=False, map_location="cpu")
        model.load_state_dict(saved["model"], strict=False)
        if "opt" in saved:
            opt.load_state_dict(saved["opt"])
            for name, obj in extra.items():
                obj.load_state_dict(saved["extra"][name])
        else:
            # Weights only (a checkpoint brought back from a GPU machine without its optimiser
            # state): training goes on with fresh Adam moments.
            print("checkpoint holds no optimiser state: fresh optimiser moments", file=sys.stderr)
        state = saved["state"]
        print(f"resumed at step {state['step']}, {state['seconds'] / 60:.1f} min", file=sys.stderr)
    total_s = until_minutes * 60
    stop_at = time.time() + minutes * 60
    rng = np.random.default_rng(state["step"] + seed)

    def save():
        tmp = ckpt.with_suffix(".tmp")
        torch.save(dict(model=model.state_dict(), opt=opt.state_dict(), state=state,
                        extra={name: obj.state_dict() for name, obj in extra.items()}), tmp)
        tmp.replace(ckpt)

    last_save = time.time()
    while state["seconds"] < total_s and time.time() < stop_at:
        t0 = time.time()
        # Cosine decay over the planned total, so chunking does not change the schedule.
        frac = min(1.0, state["seconds"] / total_s)
        for g in opt.param_groups:
            # Each group keeps its own base rate (`lr` unless the group was built with another).
            g["lr"] = g.setdefault("base_lr", lr) * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * frac)))
        model.train()
        loss, parts = step(rng, state)
        opt.zero_grad()
        if loss is None or not torch.isfinite(loss):
            # Skip the batch rather than poison the weights; counted in the checkpoint.
            state["skipped"] = state.get("skipped", 0) + 1
            continue
        loss.backward()
        if clip is not None:
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            if not torch.isfinite(norm):
                # An inf or NaN gradient would poison every weight (clipping scales it by 0).
                opt.zero_grad()
                state["skipped"] = state.get("skipped", 0) + 1
                continue
        opt.step()
        state["step"] += 1
        state["seconds"] += time.time() - t0
        if state["step"] % log_every == 0:
            shown = " ".join(f"{k} {v:.3f}" for k, v in parts.items())
            print(f"step {state['step']} {state['seconds'] / 60:.1f} min {shown}", file=sys.stderr, flush=True)
        if time.time() - last_save > SAVE_EVERY_S:
            save()
            last_save = time.time()
    save()
    print(f"trained {state['seconds'] / 60:.1f} min, {state['step']} steps")
    return state


def exit_code(state, until_minutes):
    """0 when the planned training time is done, MORE_TO_DO otherwise."""
    return 0 if state["seconds"] >= until_minutes * 60 - 1 else MORE_TO_DO
