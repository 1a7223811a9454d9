"""Exports the texture generator (the moving average of its weights) to single-file ONNX (opset
17, dynamic batch, height and width), checks ONNX Runtime against PyTorch on an odd-shaped grid,
measures the per-class mean style for truncation, and writes model.toml.

    python export.py
"""
import torch

import config
from common import manifest
from common.export import export_checked
from model import Generator
from train import build_nets

TRAINING_DATA = [
    manifest.training_data("0 A.D. terrain textures (held-out textures excluded, see the card)",
                           "CC-BY-SA-3.0, Wildfire Games", "Debian package 0ad-data 0.0.26-1"),
    manifest.training_data("SuperTuxKart astro_turf.jpg", "CC0-1.0", "Debian package supertuxkart-data 1.4+dfsg-2"),
]


def style_means(g, n=4096):
    """Mean style per class over many latents: the centre truncation pulls towards."""
    k = len(config.CLASSES)
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad():
        return torch.stack([g.mapping(torch.randn(n, config.Z, generator=gen), torch.eye(k)[c].repeat(n, 1)).mean(0)
                            for c in range(k)])


def inputs(batch, h, w, gen=None):
    k, s = len(config.CLASSES), config.SCALE
    return {
        "latent": torch.randn(batch, config.LATENT_CH, h, w, generator=gen),
        "z_coarse": torch.randn(batch, config.Z, generator=gen),
        "z_fine": torch.randn(batch, config.Z, generator=gen),
        "class": torch.eye(k)[torch.arange(batch) % k],
        "truncation": torch.full((batch, 1), 0.8),
        "noise": torch.randn(batch, 1, h * s, w * s, generator=gen),
    }


def main():
    ck = torch.load(config.CKPT / "last.pt", weights_only=False)
    nets = build_nets()
    nets.load_state_dict(ck["model"])
    g: Generator = nets["g_ema"].eval()
    g.w_avg.copy_(style_means(g))
    path = config.MODELS / config.NAME / f"{config.NAME}.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    names = ["latent", "z_coarse", "z_fine", "class", "truncation", "noise"]
    axes = {n: {0: "batch"} for n in names}
    axes["latent"] |= {2: "rows", 3: "cols"}
    axes["noise"] |= {2: "height", 3: "width"}
    axes["image"] = {0: "batch", 2: "height", 3: "width"}
    dummy = tuple(inputs(1, 4, 4).values())
    check = inputs(2, 3, 5, torch.Generator().manual_seed(1))
    err = export_checked(g, dummy, path, names, ["image"], axes, check, tol=1e-3)
    k, c, z = len(config.CLASSES), config.LATENT_CH, config.Z
    size = manifest.write(
        path, generator="models/train/texture/export.py", task="texture", version=f"0.1.{ck['state']['step']}",
        description="Tileable material texture generator: spatial latent + style + class -> sRGB albedo",
        transfer="none",
        notes=["The output is sRGB albedo in [-1, 1] ((v + 1) / 2 gives 0..1), SCALE pixels per latent cell.",
               "Every convolution pads circularly: an output tiles exactly."],
        inputs=[manifest.tensor("latent", [-1, c, -1, -1], (-5, 5)),
                manifest.tensor("z_coarse", [-1, z], (-5, 5)),
                manifest.tensor("z_fine", [-1, z], (-5, 5)),
                manifest.tensor("class", [-1, k], (0, 1), channels=config.CLASSES),
                manifest.tensor("truncation", [-1, 1], (0, 1)),
                manifest.tensor("noise", [-1, 1, -1, -1], (-5, 5))],
        outputs=[manifest.tensor("image", [-1, 3, -1, -1], (-1, 1), channels=["r", "g", "b"])],
        table={"texture": {"classes": list(config.CLASSES), "latent_channels": c, "style": z,
                           "scale": config.SCALE, "margin": config.MARGIN}},
        training=TRAINING_DATA)
    print(f"{config.NAME}: {size / 1e6:.2f} MB, ORT vs torch max diff {err:.1e}")


if __name__ == "__main__":
    main()
