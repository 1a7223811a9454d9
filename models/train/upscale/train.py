"""Trains the upscaler in resumable chunks: `train.py --minutes 15 --until-minutes 70`.

Each batch: random crops of the training textures at their own resolution (one of the 8
flips/quarter turns), reduced by 4 with an antialiased bicubic or an area filter (both are how
textures get smaller) and rounded to 8 bits as real inputs are; the network upscales them back.
Loss: L1 to the real crop, and for the last (1 - GAN_FROM) of the run a relativistic adversarial
term (ESRGAN's) from a patch critic trained beside it. No perceptual (VGG) loss: no permissively
licensed VGG weights are reachable here.
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F

import config
import dataset
from common import chunked
from model import Critic, Upscaler

LR = 4e-4
CRITIC_LR = 1e-4


def crops(images, rng, n, size):
    """N x 3 x size x size float crops (0..1), each in a random orientation."""
    out = np.empty((n, size, size, 3), np.float32)
    for k, i in enumerate(rng.integers(0, len(images), n)):
        img = images[i]
        y = rng.integers(0, img.shape[0] - size + 1)
        x = rng.integers(0, img.shape[1] - size + 1)
        c = img[y:y + size, x:x + size]
        t = int(rng.integers(8))
        c = c[:, ::-1] if t & 1 else c
        c = c[::-1] if t & 2 else c
        c = c.transpose(1, 0, 2) if t & 4 else c
        out[k] = c.astype(np.float32) / 255
    return torch.from_numpy(out).permute(0, 3, 1, 2).contiguous()


def degrade(hr, rng):
    """The low-resolution input: hr reduced by SCALE (bicubic antialiased or area), 8-bit."""
    size = hr.shape[-1] // config.SCALE
    if rng.random() < 0.5:
        lr = F.interpolate(hr, size=(size, size), mode="bicubic", antialias=True, align_corners=False)
    else:
        lr = F.interpolate(hr, size=(size, size), mode="area")
    return (lr.clamp(0, 1) * 255).round() / 255


def inner(t):
    b = config.LOSS_BORDER * (t.shape[-1] // (config.CROP))
    return t[..., b:-b, b:-b]


def main():
    ap = chunked.parser()
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    images = dataset.load("train")
    print(f"{len(images)} training textures", file=sys.stderr)
    net, critic = Upscaler().to(a.device), Critic().to(a.device)
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=LR, betas=(0.9, 0.99))
    critic_opt = torch.optim.Adam(critic.parameters(), lr=CRITIC_LR, betas=(0.9, 0.99))
    size, n = config.CROP * config.SCALE, config.BATCH["cuda" if a.device == "cuda" else "cpu"]

    def step(rng, state):
        hr = crops(images, rng, n, size).to(a.device)
        lr = degrade(hr, rng)
        sr = net(lr)
        l1 = F.l1_loss(inner(sr), inner(hr))
        parts = {"l1": l1.item()}
        if state["seconds"] < config.GAN_FROM * a.until_minutes * 60:
            return l1, parts
        if not (l1_only := config.CKPT / "upscale-l1.pt").exists():
            # The generator as L1 alone left it: evaluate.py measures what the critic changed.
            torch.save({"model": net.state_dict(), "state": dict(state)}, l1_only)
        # Critic: real crops should score above the average fake, fakes below the average real.
        critic.requires_grad_(True)
        real, fake = critic(inner(hr)), critic(inner(sr.detach()))
        d_loss = (F.binary_cross_entropy_with_logits(real - fake.mean(), torch.ones_like(real))
                  + F.binary_cross_entropy_with_logits(fake - real.mean(), torch.zeros_like(fake))) / 2
        critic_opt.zero_grad()
        d_loss.backward()
        critic_opt.step()
        critic.requires_grad_(False)
        real, fake = critic(inner(hr)).detach(), critic(inner(sr))
        g_adv = (F.binary_cross_entropy_with_logits(real - fake.mean(), torch.zeros_like(real))
                 + F.binary_cross_entropy_with_logits(fake - real.mean(), torch.ones_like(fake))) / 2
        parts |= {"d": d_loss.item(), "adv": g_adv.item()}
        return l1 + config.GAN_WEIGHT * g_adv, parts

    state = chunked.train(net, opt, config.CKPT / "upscale.pt", step, lr=LR, minutes=a.minutes,
                          until_minutes=a.until_minutes, log_every=50, extra={"critic": critic,
                                                                                "critic_opt": critic_opt})
    sys.exit(chunked.exit_code(state, a.until_minutes))


if __name__ == "__main__":
    main()
