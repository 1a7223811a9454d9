"""Exports the upscaler to single-file ONNX (opset 17, dynamic batch, height and width, circular
padding, weights stored float16), checks ONNX Runtime against PyTorch on an odd-shaped input, and
writes model.toml.

    python export.py [--checkpoint PATH] [--out DIR]
"""
import argparse
import shutil
from pathlib import Path

import torch

import config
from common import manifest
from common.export import export_checked
from common.half import store_weights_half
from model import Upscaler

TRAINING_DATA = [
    manifest.training_data("Nexuiz textures (textures.pk3)", "GPL-2+", "Debian package nexuiz-textures 2.5.2-12"),
    manifest.training_data("UFO:AI textures that its copyright file marks GPL-2+, Expat or public domain",
                           "GPL-2+, Expat, public domain (per file)", "Debian package ufoai-textures 2.5-2"),
    manifest.training_data("FlightGear terrain textures (Textures/Terrain)", "GPL-2+",
                           "Debian package flightgear-data-base 1:2020.3.16+dfsg-1"),
    manifest.training_data("Cube 2 and Red Eclipse textures that their copyright files mark CC0-1.0, "
                           "public domain, Zlib or Expat", "CC0-1.0, public domain, Zlib, Expat (per file)",
                           "Debian packages cube2-data 1.3-1, redeclipse-data 1.6.0-1"),
]


def blended(weights, share):
    """ESRGAN's network interpolation: `share` x the generator as L1 alone left it (before the
    critic joined) + (1 - share) x `weights`; `weights` alone when share is 0 or there is no
    L1-only snapshot."""
    l1_path = config.CKPT / "upscale-l1.pt"
    if share == 0 or not l1_path.exists():
        return weights
    l1 = torch.load(l1_path, weights_only=False, map_location="cpu")["model"]
    return {k: share * l1[k] + (1 - share) * v if v.is_floating_point() else v for k, v in weights.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", type=Path, default=config.CKPT / "upscale.pt")
    ap.add_argument("--out", type=Path, default=config.MODELS / config.NAME)
    ap.add_argument("--blend", type=float, default=config.L1_BLEND,
                    help="share of the L1-only generator's weights (ESRGAN's network interpolation)")
    ap.add_argument("--keep-float32", choices=("yes", "no"), default="yes",
                    help="keep the float32 file in the work folder for evaluate.py's float16 check")
    a = ap.parse_args()
    ck = torch.load(a.checkpoint, weights_only=False, map_location="cpu")
    net = Upscaler()
    net.load_state_dict(blended(ck["model"], a.blend))
    net.wrap().eval()
    path = a.out / f"{config.NAME}.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    axes = {"colour": {0: "batch", 2: "height", 3: "width"}, "upscaled": {0: "batch", 2: "height", 3: "width"}}
    check = {"colour": torch.rand(2, 3, 37, 50, generator=torch.Generator().manual_seed(1))}
    err = export_checked(net, (torch.rand(1, 3, 32, 32),), path, ["colour"], ["upscaled"], axes, check, tol=1e-4)
    # The float32 file stays in the work folder: evaluate.py measures what float16 weights change.
    if a.keep_float32 == "yes":
        shutil.copyfile(path, config.WORK / "upscale-float32.onnx")
    store_weights_half(path, ops={"Conv"})
    size = manifest.write(
        path, generator="models/train/upscale/export.py", task="upscale", version=f"0.1.{ck['state']['step']}",
        description=f"Tile-safe {config.SCALE}x super-resolution of sRGB colour (and data) maps",
        transfer="none",
        notes=["Every convolution pads circularly: a tileable texture upscales to a tileable texture.",
               "margin: input pixels of context a tile needs to equal a whole-image run."],
        inputs=[manifest.tensor("colour", [-1, 3, -1, -1], (0, 1), channels=["r", "g", "b"])],
        outputs=[manifest.tensor("upscaled", [-1, 3, -1, -1], (-0.5, 1.5), channels=["r", "g", "b"])],
        table={"upscale": {"scale": config.SCALE, "margin": config.MARGIN}},
        training=TRAINING_DATA)
    print(f"{config.NAME}: {size / 1e6:.2f} MB, ORT vs torch max diff {err:.1e}")


if __name__ == "__main__":
    main()
