"""The Cycles data set in memory: per scene, the noisy renders at each sample count with their
albedo and normal passes, and the reference (render_cycles.py writes it)."""
import numpy as np

import blender_exr
import config


def load(split):
    """[{"name": ..., spp: (color, albedo, normal), ..., "ref": color}] for the complete scenes of
    `split` ("train" or "heldout")."""
    scenes = []
    for folder in sorted((config.CYCLES / split).glob("s*")):
        if not (folder / "ref.exr").exists():
            continue
        scene = {"name": folder.name, "ref": blender_exr.read(folder / "ref.exr")[0]}
        for spp in config.CYCLES_SPP:
            scene[spp] = blender_exr.read(folder / f"noisy_{spp}.exr")
        scenes.append(scene)
    if not scenes:
        raise SystemExit(f"no rendered scenes in {config.CYCLES / split}: run render_cycles.py first")
    return scenes


def crop_batch(scenes, rng, batch, patch, hdr_transfer):
    """A batch of random crops (random scene, sample count, position, flips) as network input
    (B x 9 x P x P, OIDN's preparation) and target (B x 3 x P x P, in the same transfer domain)."""
    import transfer

    xs, ys = [], []
    for _ in range(batch):
        s = scenes[rng.integers(len(scenes))]
        spp = config.CYCLES_SPP[rng.integers(len(config.CYCLES_SPP))]
        color, albedo, normal = s[spp]
        scale = transfer.autoexposure(color)
        h, w, _ = color.shape
        y0, x0 = rng.integers(0, h - patch + 1), rng.integers(0, w - patch + 1)
        win = (slice(y0, y0 + patch), slice(x0, x0 + patch))
        x = transfer.network_input(color[win], albedo[win], normal[win], hdr_transfer, scale)[0]
        y = transfer.forward(s["ref"][win], hdr_transfer, scale).transpose(2, 0, 1)
        if rng.random() < 0.5:
            x, y = x[:, :, ::-1], y[:, :, ::-1]
        if rng.random() < 0.5:
            x, y = x[:, ::-1], y[:, ::-1]
        xs.append(np.ascontiguousarray(x))
        ys.append(np.ascontiguousarray(y))
    return np.stack(xs), np.stack(ys)
