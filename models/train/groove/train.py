"""Train the groove VAE in resumable chunks: `train.py --minutes 10 --until-minutes 40`.
Every 250 steps the validation split is scored (reconstruction + KL at the full weight); the
best-scoring weights are kept in best.pt, which export.py ships: the validation split decides
where training stops, the training split is the only one trained on."""
import sys

import torch

import config
import dataset
from common import chunked
from model import GrooveVAE

BATCH = 128
LR = 1e-3
BETA = 0.1
FREE_BITS = 0.05       # nats per latent dimension, against posterior collapse
VALIDATE_EVERY = 250


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
        if (state["step"] + 1) % VALIDATE_EVERY == 0:
            model.eval()
            with torch.no_grad():
                _, v = model.loss(xv, BETA, 0.0)
            model.train()
            score = v["hit"] + v["vel"] + v["off"] + BETA * v["kl"]
            parts["val_hit"], parts["val_score"] = v["hit"], score
            if score < state.get("best_score", float("inf")):
                state["best_score"], state["best_step"] = score, state["step"] + 1
                best = config.CKPT / "best.pt"
                torch.save(dict(model=model.state_dict(), state=dict(state)), best.with_suffix(".tmp"))
                best.with_suffix(".tmp").replace(best)
        return loss, parts

    state = chunked.train(model, opt, config.CKPT / "last.pt", step, lr=LR, minutes=args.minutes,
                  until_minutes=args.until_minutes, log_every=250)
    sys.exit(chunked.exit_code(state, args.until_minutes))


if __name__ == "__main__":
    main()
