"""Trains the material network in resumable chunks: `train.py --minutes 15 --until-minutes 60`.

Supervised on the artists' own maps: for each batch, random crops of training materials with one
of the 8 flips/quarter turns (the normals turned with them) and a mild brightness/contrast jitter
of the colour. Losses: the normals' angle (1 - cos) plus L1 on their x/y; height, where a material
has one, as L1 between the per-crop standardised maps (heights in these packages have no common
scale); roughness, where a material has a specular map, as L1 to 1 - its luminance.
"""
import sys

import numpy as np
import torch

import config
import dataset
from common import chunked
from model import MaterialNet

LR = 2e-3
HEIGHT_WEIGHT = 0.5
ROUGH_WEIGHT = 0.5
BORDER = 8


def orient(arrays, k):
    """One of the 8 symmetries of the square (k: bit 0 flips columns, bit 1 rows, bit 2 swaps
    them) applied to H x W x C arrays; the normal's x/y turn with the image (green up)."""
    colour, normal, height, rough = arrays
    n = normal.copy()
    if k & 1:
        colour, n, height, rough = [a[:, ::-1] for a in (colour, n, height, rough)]
        n[..., 0] *= -1
    if k & 2:
        colour, n, height, rough = [a[::-1] for a in (colour, n, height, rough)]
        n[..., 1] *= -1
    if k & 4:
        colour, n, height, rough = [a.transpose(1, 0, 2) for a in (colour, n, height, rough)]
        n = np.stack([-n[..., 1], -n[..., 0], n[..., 2]], -1)
    return colour, n, height, rough


def batch(materials, rng, size, crop):
    """Tensors colour, normal, height, rough (N x C x crop x crop) and the height/rough masks."""
    out = [[] for _ in range(6)]
    for i in rng.integers(0, len(materials), size):
        m = materials[i]
        s = m["colour"].shape[0]
        c = min(crop, s)
        y, x = rng.integers(0, s - c + 1, 2)
        window = (slice(y, y + c), slice(x, x + c))
        colour = m["colour"][window].astype(np.float32) / 255
        normal = m["normal"][window].astype(np.float32) / 127.5 - 1
        has_h, has_r = "height" in m, "rough" in m
        height = m["height"][window][..., None].astype(np.float32) if has_h else np.zeros((c, c, 1), np.float32)
        rough = m["rough"][window][..., None].astype(np.float32) / 255 if has_r else np.zeros((c, c, 1), np.float32)
        colour, normal, height, rough = orient((colour, normal, height, rough), int(rng.integers(8)))
        gain, lift = rng.uniform(0.8, 1.2), rng.uniform(-0.06, 0.06)
        colour = np.clip((colour - 0.5) * gain + 0.5 + lift, 0, 1)
        if c < crop:   # a small material is tiled up to the crop (the wrap-around is part of the data)
            reps = -(-crop // c)
            colour, normal, height, rough = [np.tile(a, (reps, reps, 1))[:crop, :crop]
                                             for a in (colour, normal, height, rough)]
        for j, a in enumerate((colour, normal, height, rough)):
            out[j].append(np.ascontiguousarray(a.transpose(2, 0, 1)))
        out[4].append(has_h)
        out[5].append(has_r)
    tensors = [torch.from_numpy(np.stack(a)) for a in out[:4]]
    return (*tensors, torch.tensor(out[4], dtype=torch.float32), torch.tensor(out[5], dtype=torch.float32))


def standardise(x):
    mean = x.mean((1, 2, 3), keepdim=True)
    return (x - mean) / (x.std((1, 2, 3), keepdim=True) + 1e-3)


def losses(net, colour, normal, height, rough, has_h, has_r):
    p_height, p_normal, p_rough = net(colour)
    # Crops of textures that do not tile wrap wrongly at their borders: the loss skips them.
    m = slice(BORDER, -BORDER)
    p_height, p_normal, p_rough = p_height[..., m, m], p_normal[..., m, m], p_rough[..., m, m]
    normal, height, rough = normal[..., m, m], height[..., m, m], rough[..., m, m]
    angle = (1 - (p_normal * normal).sum(1)).mean()
    xy = (p_normal[:, :2] - normal[:, :2]).abs().mean()
    h = ((standardise(p_height) - standardise(height)).abs().mean((1, 2, 3)) * has_h).sum() / has_h.sum().clamp(min=1)
    r = ((p_rough - rough).abs().mean((1, 2, 3)) * has_r).sum() / has_r.sum().clamp(min=1)
    return angle + xy + HEIGHT_WEIGHT * h + ROUGH_WEIGHT * r, dict(angle=angle.item(), xy=xy.item(), h=h.item(),
                                                                    r=r.item())


def main():
    ap = chunked.parser()
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    materials = dataset.load("train")
    print(f"{len(materials)} training materials", file=sys.stderr)
    net = MaterialNet().to(args.device)
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    size = config.BATCH["cuda" if args.device.startswith("cuda") else "cpu"]

    def step(rng, state):
        tensors = [t.to(args.device) for t in batch(materials, rng, size, config.CROP)]
        return losses(net, *tensors)

    state = chunked.train(net, opt, config.CKPT / "material.pt", step, lr=LR, minutes=args.minutes,
                          until_minutes=args.until_minutes, log_every=50)
    return chunked.exit_code(state, args.until_minutes)


if __name__ == "__main__":
    sys.exit(main())
