"""Trains both denoiser variants side by side on the same batches, in resumable chunks
(common/chunked.py): `train.py --minutes 15 --until-minutes 65`.

The two U-Nets sit in one module with one Adam optimiser: Adam works per parameter and the two
losses touch disjoint parameters, so this equals training them separately on the same batches.
"""
import sys

import torch

import config
from common import chunked
from dataset import SceneSet, sample_batch
from model import UNet

PATCH = 64
BATCH = 12
LR = 4e-4


def build_models():
    """One U-Net per variant, keyed by model name; its input is 3 channels per input group."""
    return torch.nn.ModuleDict({name: UNet(3 * len(groups)) for name, groups in config.VARIANTS.items()})


def main():
    args = chunked.args()
    torch.set_num_threads(2)
    scenes = SceneSet("train")
    print(f"{len(scenes)} training scenes", file=sys.stderr)
    models = build_models()
    opt = torch.optim.Adam(models.parameters(), lr=LR)

    def step(rng, state):
        x, y = sample_batch(scenes, rng, BATCH, PATCH)
        losses = {name: (models[name](x[:, : 3 * len(groups)]) - y).abs().mean()
                  for name, groups in config.VARIANTS.items()}
        return sum(losses.values()), {name: float(v) for name, v in losses.items()}

    state = chunked.train(models, opt, config.CKPT / "last.pt", step, lr=LR, minutes=args.minutes,
                          until_minutes=args.until_minutes, log_every=50, clip=None, seed=12345)
    sys.exit(chunked.exit_code(state, args.until_minutes))


if __name__ == "__main__":
    main()
