"""Fine-tunes OIDN's HDR colour+albedo+normal network on the Cycles renders, starting from its
published weights, with OIDN's loss (0.16 L1 + 0.84 MS-SSIM in the transferred space), in
resumable chunks (common/chunked.py): `train.py --minutes 10 --until-minutes 25`.

A low, decaying learning rate keeps it close to where it started: the goal is to adapt to how
Cycles' noise and Denoising passes look, not to relearn denoising from 40 scenes.
"""
import sys

import torch
import torch.nn.functional as F

import config
import cycles_data
from common import chunked
from model import UNet
from oidn_weights import load_all

SOURCE = "rt_hdr_alb_nrm"
CKPT = config.CKPT / "finetune-cycles.pt"
PATCH = 128
BATCH = 6
LR = 2e-5
L1_WEIGHT = 0.16


def gaussian_window(size=11, sigma=1.5):
    g = torch.exp(-(torch.arange(size) - size // 2).float() ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None].repeat(3, 1, 1, 1)


WINDOW = gaussian_window()


def ssim_parts(x, y):
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    blur = lambda t: F.conv2d(t, WINDOW, padding=5, groups=3)
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    cs = (2 * cxy + c2) / (vx + vy + c2)
    return ((2 * mx * my + c1) / (mx * mx + my * my + c1) * cs).mean(), cs.mean()


def ms_ssim(x, y, scales=4):
    """Multi-scale SSIM (Wang et al. 2003), equal weights over `scales` (128 px crops fit 4)."""
    value = 1.0
    for k in range(scales):
        ssim, cs = ssim_parts(x, y)
        value = value * (ssim if k == scales - 1 else cs).clamp(min=1e-6) ** (1 / scales)
        x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    return value


def build():
    return UNet.from_oidn(load_all()[SOURCE])


def main():
    args = chunked.args()
    torch.set_num_threads(2)
    scenes = cycles_data.load("train")
    print(f"{len(scenes)} training scenes", file=sys.stderr)
    net = build()
    opt = torch.optim.Adam(net.parameters(), lr=LR)

    def step(rng, state):
        x, y = (torch.from_numpy(a) for a in cycles_data.crop_batch(scenes, rng, BATCH, PATCH, True))
        out = net(x)
        l1 = (out - y).abs().mean()
        msssim = ms_ssim(out, y)
        return L1_WEIGHT * l1 + (1 - L1_WEIGHT) * (1 - msssim), {"l1": float(l1), "ms_ssim": float(msssim)}

    state = chunked.train(net, opt, CKPT, step, lr=LR, minutes=args.minutes, until_minutes=args.until_minutes,
                          log_every=20, clip=None, seed=777)
    sys.exit(chunked.exit_code(state, args.until_minutes))


if __name__ == "__main__":
    main()
