"""Trains the texture GAN in resumable chunks: `train.py --minutes 15 --until-minutes 75`.

Non-saturating logistic GAN loss with lazy R1 on the critic (every 4 steps), style-mixing
regularisation, and an exponential moving average of the generator (what is exported), as in
StyleGAN2, at a size 2 CPU cores train in an hour. Real crops come from the training textures
with random wrap-around offsets, flips and quarter turns (the sources tile, so any crop is valid).
"""
import copy
import sys

import numpy as np
import torch
import torch.nn.functional as F

import config
import dataset
from common import chunked
from model import Discriminator, Generator

BATCH = 12
LR = 1e-3               # synthesis layers (equalised weights)
MAPPING_LR = 1e-4       # the mapping network learns slower, as in StyleGAN
D_LR = 4e-4             # the critic has ordinary (not equalised) weights
BETAS = (0.0, 0.99)
R1_GAMMA = 1.0
R1_EVERY = 4
EMA = 0.998
MIX = 0.5


def real_batch(images, labels, rng):
    idx = rng.integers(0, len(images), BATCH)
    crops = []
    for i in idx:
        img = images[i]
        y, x = rng.integers(0, img.shape[0], 2)
        img = np.roll(img, (-y, -x), axis=(0, 1))[: config.CROP, : config.CROP]
        img = np.rot90(img, rng.integers(4))
        if rng.random() < 0.5:
            img = img[:, ::-1]
        crops.append(img)
    x = torch.from_numpy(np.stack(crops).astype(np.float32) / 127.5 - 1).permute(0, 3, 1, 2)
    onehot = torch.from_numpy(np.eye(len(config.CLASSES), dtype=np.float32)[labels[idx]])
    return x.contiguous(), onehot


def fake_batch(g, onehot, rng):
    b, cells = onehot.shape[0], config.CROP // config.SCALE
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    latent = torch.randn(b, config.LATENT_CH, cells, cells, generator=gen)
    z = torch.randn(b, config.Z, generator=gen)
    z2 = torch.where(torch.rand(b, 1, generator=gen) < MIX, torch.randn(b, config.Z, generator=gen), z)
    noise = torch.randn(b, 1, config.CROP, config.CROP, generator=gen)
    return g(latent, z, z2, onehot, torch.ones(b, 1), noise)


def build_nets():
    """Generator, critic and the generator's moving average (the one exported)."""
    g = Generator()
    return torch.nn.ModuleDict({"g": g, "d": Discriminator(), "g_ema": copy.deepcopy(g).requires_grad_(False)})


def main():
    args = chunked.args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    images, labels = dataset.load("train")
    print(f"{len(images)} training textures", file=sys.stderr)
    nets = build_nets()
    g, d = nets["g"], nets["d"]
    mapping = list(g.mapping.parameters())
    synthesis = [p for n, p in g.named_parameters() if not n.startswith("mapping.")]
    g_opt = torch.optim.Adam([{"params": synthesis, "lr": LR, "base_lr": LR},
                              {"params": mapping, "lr": MAPPING_LR, "base_lr": MAPPING_LR}], betas=BETAS)
    d_opt = torch.optim.Adam(d.parameters(), lr=D_LR, betas=BETAS)

    def step(rng, state):
        with torch.no_grad():
            for pe, p in zip(nets["g_ema"].parameters(), g.parameters(), strict=True):
                pe.lerp_(p, 1 - EMA)
        # The critic follows the generator's schedule.
        for group in d_opt.param_groups:
            group["lr"] = D_LR * g_opt.param_groups[0]["lr"] / LR
        # Critic.
        real, onehot = real_batch(images, labels, rng)
        r1 = state["step"] % R1_EVERY == 0
        real.requires_grad_(r1)
        d_real = d(real, onehot)
        with torch.no_grad():
            fake = fake_batch(g, onehot, rng)
        d_loss = F.softplus(-d_real).mean() + F.softplus(d(fake, onehot)).mean()
        if r1:
            (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
            d_loss = d_loss + R1_GAMMA / 2 * grad.pow(2).sum((1, 2, 3)).mean() * R1_EVERY
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        # Generator: its loss goes back to chunked, which steps g_opt.
        g_loss = F.softplus(-d(fake_batch(g, onehot, rng), onehot)).mean()
        return g_loss, {"g": float(g_loss.detach()), "d": float(d_loss.detach())}

    state = chunked.train(nets, g_opt, config.CKPT / "last.pt", step, lr=LR, minutes=args.minutes,
                          until_minutes=args.until_minutes, log_every=100, clip=None, extra={"d_opt": d_opt})
    sys.exit(chunked.exit_code(state, args.until_minutes))


if __name__ == "__main__":
    main()
