"""The outside anchor: the MIT-licensed ESRGAN models of the npm package `@upscalerjs/esrgan-medium`
(RDN generators trained by Kevin Scott on DIV2K; Keras layers models for TensorFlow.js), run here in
PyTorch. The package is fetched with `npm pack` into the work folder; its Keras graph (Conv2D,
ReLU, Concatenate, Add, nearest UpSampling2D) is rebuilt layer by layer from model.json with the
weights of its .bin, NHWC kernels turned NCHW. Inputs and outputs are 0..255, as its model
definition says. Its convolutions pad with zeros ("same"): it does not know about tiling.

    python anchor.py IMAGE SCALE OUT [PATCH]   # one image (in PATCH-px pieces), for a look
"""
import json
import subprocess
import sys
import tarfile

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import config

PACKAGE = "@upscalerjs/esrgan-medium"
VERSION = "1.0.0"


def fetch():
    """The unpacked package folder, fetched once."""
    dest = config.WORK / "npm" / "esrgan-medium"
    if not (dest / "package" / "models").exists():
        dest.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "pack", f"{PACKAGE}@{VERSION}"], cwd=dest, check=True, capture_output=True)
        with tarfile.open(next(dest.glob("*.tgz"))) as t:
            t.extractall(dest, filter="data")
    return dest / "package"


class KerasGraph:
    """A Keras functional model from a TensorFlow.js layers-model folder, run with torch."""

    def __init__(self, folder):
        spec = json.loads((folder / "model.json").read_text())
        self.layers = spec["modelTopology"]["model_config"]["config"]["layers"]
        blob = b"".join((folder / p).read_bytes() for group in spec["weightsManifest"] for p in group["paths"])
        self.weights, offset = {}, 0
        for group in spec["weightsManifest"]:
            for w in group["weights"]:
                n = int(np.prod(w["shape"]))
                a = np.frombuffer(blob, np.float32, n, offset).reshape(w["shape"])
                self.weights[w["name"]] = torch.from_numpy(a.copy())
                offset += 4 * n

    @torch.no_grad()
    def __call__(self, x):
        """x: N x 3 x H x W in 0..255."""
        out = {}
        for layer in self.layers:
            kind, cfg, name = layer["class_name"], layer["config"], layer["name"]
            ins = [out[i[0]] for i in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
            if kind == "InputLayer":
                y = x
            elif kind == "Conv2D":
                k = self.weights[f"{name}/kernel"].permute(3, 2, 0, 1)
                y = F.conv2d(ins[0], k, self.weights.get(f"{name}/bias"), padding=k.shape[-1] // 2)
                y = F.relu(y) if cfg["activation"] == "relu" else y
            elif kind == "Activation":
                assert cfg["activation"] == "relu", cfg["activation"]
                y = F.relu(ins[0])
            elif kind == "Concatenate":
                y = torch.cat(ins, 1)
            elif kind == "Add":
                y = sum(ins)
            elif kind == "UpSampling2D":
                y = F.interpolate(ins[0], scale_factor=tuple(cfg["size"]), mode="nearest")
            else:
                raise ValueError(f"layer {name}: {kind} is not supported")
            out[name] = y
        return y


def models():
    root = fetch()
    return {s: KerasGraph(root / "models" / f"x{s}") for s in (2, 4)}


def upscale(net, img, scale=None, patch=None, pad=16):
    """uint8 H x W x 3 -> uint8 sH x sW x 3: whole, or in `patch`-px pieces with `pad` px of the
    image around each (as UpscalerJS's patchSize and padding do): a whole 1024² image needs
    more than 23 GB."""
    x = torch.from_numpy(img.astype(np.float32)).permute(2, 0, 1)[None]
    if patch is None:
        y = net(x)[0]
    else:
        h, w = img.shape[:2]
        y = torch.zeros(3, h * scale, w * scale)
        for y0 in range(0, h, patch):
            for x0 in range(0, w, patch):
                t, l = max(0, y0 - pad), max(0, x0 - pad)
                b, r = min(h, y0 + patch + pad), min(w, x0 + patch + pad)
                out = net(x[..., t:b, l:r])[0]
                ph, pw = min(patch, h - y0), min(patch, w - x0)
                oy, ox = (y0 - t) * scale, (x0 - l) * scale
                y[:, y0 * scale:(y0 + ph) * scale, x0 * scale:(x0 + pw) * scale] = \
                    out[:, oy:oy + ph * scale, ox:ox + pw * scale]
    return np.clip(np.round(y.permute(1, 2, 0).numpy()), 0, 255).astype(np.uint8)


if __name__ == "__main__":
    torch.set_num_threads(2)
    image, scale, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    patch = int(sys.argv[4]) if len(sys.argv) > 4 else None
    img = np.asarray(Image.open(image).convert("RGB"))
    Image.fromarray(upscale(models()[scale], img, scale, patch)).save(out)
