"""Trains the texture GAN in resumable chunks: `train.py --device cuda --minutes 15 --until-minutes 7`.

Non-saturating logistic GAN loss with lazy R1 on the critic (every 4 steps), style-mixing
regularisation, and an exponential moving average of the generator (what is exported), as in
StyleGAN2, at a size one GPU trains in minutes. Real crops come from the training textures
with random wrap-around offsets, flips and quarter turns (the sources tile, so any crop is valid).
`--device cuda` trains on a GPU with the larger batch of `config.TRAINING["cuda"]`; the data set then
lives on the GPU and crops are cut there.
"""
import copy
import sys

import torch
import torch.nn.functional as F

import config
import dataset
from common import chunked
from model import Discriminator, Generator

LR = 1e-3               # synthesis layers (equalised weights)
MAPPING_LR = 1e-4       # the mapping network learns slower, as in StyleGAN
D_LR = 4e-4             # the critic has ordinary (not equalised) weights
BETAS = (0.0, 0.99)
R1_GAMMA = 1.0
R1_EVERY = 4
EMA = 0.998
MIX = 0.5


def real_batch(images, labels, rng, batch, crop):
    """`batch` random crops (wrap-around offset, quarter turn, flip) of the uint8 N x S x S x 3
    `images` on their own device, as floats in [-1, 1], and their classes one-hot."""
    dev, size = images.device, images.shape[1]
    idx = torch.from_numpy(rng.integers(0, len(images), batch)).to(dev)
    offsets = torch.from_numpy(rng.integers(0, size, (batch, 2))).to(dev)
    span = torch.arange(crop, device=dev)
    ys, xs = (offsets[:, :1] + span) % size, (offsets[:, 1:] + span) % size
    x = images[idx[:, None, None], ys[:, :, None], xs[:, None, :]].permute(0, 3, 1, 2).float() / 127.5 - 1
    turns = torch.from_numpy(rng.integers(0, 4, batch)).to(dev)
    for k in range(1, 4):
        x = torch.where((turns == k)[:, None, None, None], torch.rot90(x, k, (2, 3)), x)
    flips = torch.from_numpy(rng.random(batch) < 0.5).to(dev)
    x = torch.where(flips[:, None, None, None], x.flip(3), x)
    return x.contiguous(), F.one_hot(labels[idx], len(config.CLASSES)).float()


def fake_batch(g, onehot, rng, crop):
    b, cells, dev = onehot.shape[0], crop // config.SCALE, onehot.device
    gen = torch.Generator(device=dev).manual_seed(int(rng.integers(2**31)))

    def randn(*shape):
        return torch.randn(*shape, generator=gen, device=dev)

    latent = randn(b, config.LATENT_CH, cells, cells)
    z = randn(b, config.Z)
    z2 = torch.where(torch.rand(b, 1, generator=gen, device=dev) < MIX, randn(b, config.Z), z)
    return g(latent, z, z2, onehot, torch.ones(b, 1, device=dev), randn(b, 1, crop, crop))


def build_nets():
    """Generator, critic and the generator's moving average (the one exported)."""
    g = Generator()
    return torch.nn.ModuleDict({"g": g, "d": Discriminator(), "g_ema": copy.deepcopy(g).requires_grad_(False)})


def main():
    ap = chunked.parser()
    ap.add_argument("--device", choices=sorted(config.TRAINING), default="cpu")
    args = ap.parse_args()
    batch, crop = config.TRAINING[args.device]["batch"], config.TRAINING[args.device]["crop"]
    dev = torch.device(args.device)
    torch.set_num_threads(2)
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True
    images, labels = (torch.from_numpy(a).to(dev) for a in dataset.load("train"))
    print(f"{len(images)} training textures; batch {batch} of {crop}px crops on {dev}", file=sys.stderr)
    nets = build_nets().to(dev)
    g, d = nets["g"], nets["d"]
    mapping = list(g.mapping.parameters())
    synthesis = [p for n, p in g.named_parameters() if not n.startswith("mapping.")]
    g_opt = torch.optim.Adam([{"params": synthesis, "lr": LR, "base_lr": LR},
                              {"params": mapping, "lr": MAPPING_LR, "base_lr": MAPPING_LR}], betas=BETAS)
    d_opt = torch.optim.Adam(d.parameters(), lr=D_LR, betas=BETAS)

    def step(rng, state):
        with torch.no_grad():
            torch._foreach_lerp_(list(nets["g_ema"].parameters()), list(g.parameters()), 1 - EMA)
        # The critic follows the generator's schedule.
        for group in d_opt.param_groups:
            group["lr"] = D_LR * g_opt.param_groups[0]["lr"] / LR
        # Critic.
        real, onehot = real_batch(images, labels, rng, batch, crop)
        r1 = state["step"] % R1_EVERY == 0
        real.requires_grad_(r1)
        d_real = d(real, onehot)
        with torch.no_grad():
            fake = fake_batch(g, onehot, rng, crop)
        d_loss = F.softplus(-d_real).mean() + F.softplus(d(fake, onehot)).mean()
        if r1:
            (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
            d_loss = d_loss + R1_GAMMA / 2 * grad.pow(2).sum((1, 2, 3)).mean() * R1_EVERY
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        # Generator: its loss goes back to chunked, which steps g_opt.
        g_loss = F.softplus(-d(fake_batch(g, onehot, rng, crop), onehot)).mean()
        return g_loss, {"g": float(g_loss.detach()), "d": float(d_loss.detach())}

    state = chunked.train(nets, g_opt, config.CKPT / "last.pt", step, lr=LR, minutes=args.minutes,
                          until_minutes=args.until_minutes, log_every=100, clip=None, extra={"d_opt": d_opt})
    sys.exit(chunked.exit_code(state, args.until_minutes))


if __name__ == "__main__":
    main()
