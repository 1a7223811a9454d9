"""Train the drum one-shot VAE in resumable chunks: `train.py --minutes 10 --until-minutes 40`.
Augmentation: each example is re-pitched by up to +-4 % (resampled) and its level varied, which
stretches ~270 one-shots into a continuum the decoder can interpolate."""
import sys

import numpy as np
import torch

import config
import dataset
from common import chunked
from model import DrumVAE

BATCH = 12
LR = 5e-4
LANE_LR = 2e-2          # the per-lane synthesis parameters (model.Decoder.lane_params)
BETA = 0.02
FREE_BITS = 0.1


def augment(audio, rng):
    out = np.empty_like(audio)
    for i, x in enumerate(audio):
        r = rng.uniform(0.96, 1.04)
        src = np.arange(config.LENGTH) * r
        out[i] = np.interp(src, np.arange(config.LENGTH), x, right=0.0) * rng.uniform(0.7, 1.0)
    return out


def main():
    args = chunked.args()
    torch.manual_seed(0)
    audio, lanes = dataset.load("train")
    onehot = np.eye(len(config.LANES), dtype=np.float32)[lanes]
    model = DrumVAE()
    lane_params = [model.decoder.lane_params]
    rest = [p for p in model.parameters() if p is not model.decoder.lane_params]
    opt = torch.optim.Adam([dict(params=lane_params, lr=LANE_LR, base_lr=LANE_LR), dict(params=rest)], lr=LR)

    def step(rng, state):
        beta = BETA * min(1.0, state["step"] / 500)
        idx = rng.integers(0, len(audio), BATCH)
        x = torch.from_numpy(augment(audio[idx], rng))
        return model.loss(x, torch.from_numpy(onehot[idx]), beta, FREE_BITS)

    state = chunked.train(model, opt, config.CKPT / "last.pt", step, lr=LR, minutes=args.minutes,
                  until_minutes=args.until_minutes, log_every=100)
    sys.exit(chunked.exit_code(state, args.until_minutes))


if __name__ == "__main__":
    main()
