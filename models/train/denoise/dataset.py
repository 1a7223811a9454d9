"""Training patches from the rendered scenes: a random scene, sample count and crop, with flips
and an exposure jitter so the network does not depend on the auto-exposure being exact."""
import numpy as np
import torch

import config
from transfer import autoexposure, forward


class SceneSet:
    def __init__(self, split: str):
        files = sorted((config.DATA / split).glob("scene_*.npz"))
        if not files:
            raise SystemExit(f"no rendered scenes in {config.DATA / split}: run build_data.sh first")
        self.scenes = []
        for f in files:
            d = np.load(f)
            self.scenes.append({k: d[k] for k in d.files})
        self.files = files

    def __len__(self):
        return len(self.scenes)


def sample_batch(scenes: SceneSet, rng: np.random.Generator, batch: int, patch: int):
    """Returns (input with aux: Bx9xPxP, target: Bx3xPxP), both in the transfer domain."""
    xs, ys = [], []
    for _ in range(batch):
        s = scenes.scenes[rng.integers(len(scenes))]
        spp = config.NOISY_SPP[rng.integers(len(config.NOISY_SPP))]
        color = s[f"color_{spp}"].astype(np.float32)
        exposure = autoexposure(color) * 2.0 ** rng.uniform(-1, 1)
        h, w, _ = color.shape
        y0, x0 = rng.integers(0, h - patch + 1), rng.integers(0, w - patch + 1)

        def crop(a, y0=y0, x0=x0):
            return a[y0:y0 + patch, x0:x0 + patch].astype(np.float32)

        x = np.concatenate([
            forward(crop(color), exposure),
            np.clip(crop(s[f"albedo_{spp}"]), 0, 1),
            np.clip(crop(s[f"normal_{spp}"]), -1, 1)], -1)
        y = forward(crop(s["ref"]), exposure)
        if rng.random() < 0.5:
            x, y = x[:, ::-1], y[:, ::-1]
        if rng.random() < 0.5:
            x, y = x[::-1], y[::-1]
        xs.append(x.transpose(2, 0, 1).copy())
        ys.append(y.transpose(2, 0, 1).copy())
    return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))
