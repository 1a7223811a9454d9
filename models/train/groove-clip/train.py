"""Train the clip VAE in resumable chunks: `train.py --minutes 10 --until-minutes 40`.
Every VALIDATE_EVERY steps the whole validation split is reconstructed; the weights with the best
validation step accuracy are kept in best.pt, which export.py ships: the validation split decides
where training stops, the training split is the only one trained on.

Lane mixing: in a share of the training windows a group of lanes (the kick, the snare, the
hats and ride, the toms, the crash) is taken from another training window. Without it the MLPs
learn the training grooves by heart (training steps 0.99 right, validation 0.79 after 4 minutes);
with it they learn to code each part of a groove so that unseen combinations come back
(validation 0.89 after 4 minutes, measured with the same settings).
"""
import sys

import torch

import config
import dataset
from common import chunked
from model import ClipVAE

BATCH = 128
LR = 1e-3
# Small, so that the latent can carry a clip exactly (KL ~150 nats); the prior is the Gaussian
# fitted to the posteriors (model.fit_prior), not N(0, I) itself.
BETA = 0.01
FREE_BITS = 0.0
VALIDATE_EVERY = 1000
MIX_SHARE = 0.3
LANE_GROUPS = (("kick",), ("snare",), ("closed_hat", "open_hat", "ride"), ("low_tom", "mid_tom", "high_tom"), ("crash",))
C = len(config.CLASSES)


def mix_lanes(batch, donors, rng):
    """Each lane group of each window comes from its donor window with probability MIX_SHARE."""
    out = batch.clone()
    for group in LANE_GROUPS:
        take = torch.from_numpy(rng.random(len(batch)) < MIX_SHARE)
        for lane in (config.CLASSES.index(name) for name in group):
            for feature in (lane, C + lane, 2 * C + lane):
                out[take, :, feature] = donors[take, :, feature]
    return out


def main():
    args = chunked.args()
    torch.manual_seed(0)
    x = torch.from_numpy(dataset.load("train"))
    xv = torch.from_numpy(dataset.load("validation"))
    model = ClipVAE()
    opt = torch.optim.Adam(model.parameters(), lr=LR)

    def step(rng, state):
        beta = BETA * min(1.0, state["step"] / 2000)     # KL warm-up
        batch = x[torch.from_numpy(rng.integers(0, len(x), BATCH))]
        donors = x[torch.from_numpy(rng.integers(0, len(x), BATCH))]
        loss, parts = model.loss(mix_lanes(batch, donors, rng), beta, FREE_BITS)
        if (state["step"] + 1) % VALIDATE_EVERY == 0:
            model.eval()
            accuracy = model.step_accuracy(xv)
            model.train()
            parts["val_step_accuracy"] = accuracy
            if accuracy > state.get("best_accuracy", 0.0):
                state["best_accuracy"], state["best_step"] = accuracy, state["step"] + 1
                best = config.CKPT / "best.pt"
                torch.save(dict(model=model.state_dict(), state=dict(state)), best.with_suffix(".tmp"))
                best.with_suffix(".tmp").replace(best)
        return loss, parts

    state = chunked.train(model, opt, config.CKPT / "last.pt", step, lr=LR, minutes=args.minutes,
                          until_minutes=args.until_minutes, log_every=VALIDATE_EVERY)
    sys.exit(chunked.exit_code(state, args.until_minutes))


if __name__ == "__main__":
    main()
