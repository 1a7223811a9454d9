"""Exports the material network to single-file ONNX (opset 17, dynamic batch, height and width,
weights stored float16), checks ONNX Runtime against PyTorch on an odd-shaped input, and writes
model.toml.

    python export.py
"""
import shutil

import torch

import config
from common import manifest
from common.export import export_checked
from common.half import store_weights_half
from model import MaterialNet

TRAINING_DATA = [
    manifest.training_data("Cube 2: Sauerbraten textures with _nm/_hm maps (cube2-data)",
                           "CC-BY-3.0 (per file, from the package's copyright file)",
                           "Debian package cube2-data 1.3-1"),
    manifest.training_data("Red Eclipse textures with _n/_z/_s maps (redeclipse-data)",
                           "CC-BY-SA-3.0, CC-BY-3.0, CC0-1.0, Zlib, Expat, public domain (per file)",
                           "Debian package redeclipse-data 1.6.0-1"),
    manifest.training_data("0 A.D. textures with _norm/_spec maps (public.zip)", "CC-BY-SA-3.0, Wildfire Games",
                           "Debian package 0ad-data 0.0.26-1"),
    manifest.training_data("UFO:AI textures with _nm maps, only those its copyright file marks CC-BY-3.0 or "
                           "CC-BY-SA-3.0 (the GPL ones were used for evaluation only)",
                           "CC-BY-3.0, CC-BY-SA-3.0 (per file)", "Debian package ufoai-textures 2.5-2"),
]


def main():
    ck = torch.load(config.CKPT / "material.pt", weights_only=False, map_location="cpu")
    net = MaterialNet()
    net.load_state_dict(ck["model"])
    net.eval()
    path = config.MODELS / config.NAME / f"{config.NAME}.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    axes = {"colour": {0: "batch", 2: "height", 3: "width"}}
    axes |= {n: {0: "batch", 2: "height", 3: "width"} for n in ("height", "normal", "roughness")}
    check = {"colour": torch.rand(2, 3, 72, 100, generator=torch.Generator().manual_seed(1))}
    err = export_checked(net, (torch.rand(1, 3, 64, 64),), path, ["colour"], ["height", "normal", "roughness"],
                         axes, check, tol=1e-4)
    # The float32 file stays in the work folder: evaluate.py measures what float16 weights change.
    shutil.copyfile(path, config.WORK / "material-float32.onnx")
    store_weights_half(path, ops={"Conv"})
    size = manifest.write(
        path, generator="models/train/material/export.py", task="material", version=f"0.1.{ck['state']['step']}",
        description="Image to material: sRGB colour map -> height, tangent-space normal (green up), roughness",
        transfer="none",
        notes=["Every convolution pads circularly: a tileable colour map gives tileable maps.",
               "Height is unscaled (stretch it to 0..1); the normal is a unit vector, OpenGL convention.",
               "normal_gain: the engine multiplies the normal's slopes by it (see the card)."],
        inputs=[manifest.tensor("colour", [-1, 3, -1, -1], (0, 1), channels=["r", "g", "b"])],
        outputs=[manifest.tensor("height", [-1, 1, -1, -1], (-100, 100)),
                 manifest.tensor("normal", [-1, 3, -1, -1], (-1, 1), channels=["x", "y", "z"]),
                 manifest.tensor("roughness", [-1, 1, -1, -1], (0, 1))],
        table={"material": {"multiple": config.MULTIPLE, "margin": config.MARGIN,
                            "normal_gain": config.NORMAL_GAIN}},
        training=TRAINING_DATA)
    print(f"{config.NAME}: {size / 1e6:.2f} MB, ORT vs torch max diff {err:.1e}")


if __name__ == "__main__":
    main()
