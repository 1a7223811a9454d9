"""Train the groove VAE in resumable chunks: `train.py --minutes 10 --until-minutes 25`."""
import sys

import torch

import config
import dataset
from common import chunked
from model import GrooveVAE

BATCH = 128
LR = 1e-3
BETA = 0.2
FREE_BITS = 0.05       # nats per latent dimension, against posterior collapse


def main():
    args = chunked.args()
    torch.manual_seed(0)
    x = torch.from_numpy(dataset.load("train"))
    xv = torch.from_numpy(dataset.load("validation"))
    model = GrooveVAE()
    opt = torch.optim.Adam(model.parameters(), lr=LR)

    def step(rng, state):
        beta = BETA * min(1.0, state["step"] / 2000)     # KL warm-up
        idx = torch.from_numpy(rng.integers(0, len(x), BATCH))
        loss, parts = model.loss(x[idx], beta, FREE_BITS)
        if (state["step"] + 1) % 250 == 0:
            model.eval()
            with torch.no_grad():
                _, v = model.loss(xv[:1024], BETA, 0.0)
            model.train()
            parts["val_hit"] = v["hit"]
        return loss, parts

    state = chunked.train(model, opt, config.CKPT / "last.pt", step, lr=LR, minutes=args.minutes,
                  until_minutes=args.until_minutes, log_every=250)
    sys.exit(chunked.exit_code(state, args.until_minutes))


if __name__ == "__main__":
    main()
