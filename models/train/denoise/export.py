"""Exports OIDN-architecture denoisers to single-file ONNX (opset 17, dynamic batch/height/width)
with their model.toml: `export_network` for the importer, and `python export.py` for the Cycles
fine-tune, which ships (as FINETUNED, replacing the imported network as the default) only when it
beats the imported network on the held-out Cycles scenes at every evaluated sample count. The convolution weights are stored as float16 with a Cast in front of
each Conv: OIDN ships them in float16, so this is lossless and halves the file; ONNX Runtime folds
the casts when it loads the model and computes in float32 like OIDN's CPU device."""
import subprocess
import sys

import numpy as np
import onnxruntime as ort
import torch

import config
from common import manifest
from common.export import export_checked
from common.half import store_weights_half
from model import SPATIAL_MULTIPLE

# Receptive-field radius of OIDN's U-Net is under 96 px; tiles carry 96 px of context per side.
CONTEXT = 96
CHANNELS = {
    "color": ["color.r", "color.g", "color.b"],
    "albedo": ["albedo.r", "albedo.g", "albedo.b"],
    "normal": ["normal.x", "normal.y", "normal.z"],
}
TRANSFER_NOTES = {
    "pu": ["HDR: colour x auto-exposure (OIDN's), clamped to [0, 65504], then OIDN's PU transfer function",
           "normalised to 65504 -> 1. Albedo clamped to [0, 1]; normal clamped to [-1, 1], then n * 0.5 + 0.5."],
    "srgb": ["LDR: linear colour clamped to [0, 1], then the sRGB curve. Albedo clamped to [0, 1]; normal",
             "clamped to [-1, 1], then n * 0.5 + 0.5. The output is in the same domain."],
}

# VmHWM, not ru_maxrss: the latter carries the parent's peak across fork+exec.
MEASURE = """
import sys, numpy as np, onnxruntime as ort
so = ort.SessionOptions(); so.intra_op_num_threads = 2
s = ort.InferenceSession(sys.argv[1], so, providers=["CPUExecutionProvider"])
c, n = int(sys.argv[2]), int(sys.argv[3])
s.run(None, {"input": np.random.rand(1, c, n, n).astype(np.float32)})
print(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) * 1024)
"""


def peak_bytes_per_pixel(path, channels):
    """Peak RSS growth between a 128² and a 1024² inference, per pixel (fresh process each)."""
    rss = {}
    for n in (128, 1024):
        out = subprocess.run([sys.executable, "-c", MEASURE, str(path), str(channels), str(n)],
                             capture_output=True, text=True, check=True)
        rss[n] = int(out.stdout.strip().splitlines()[-1])
    return int((rss[1024] - rss[128]) / (1024 ** 2 - 128 ** 2))


def export_network(net, name, *, hdr, aux, description, version, training, extra_notes=(), half=True):
    """Exports `net` (input 3 + 3 * len(aux) channels) to models/NAME/NAME.onnx with its model.toml.
    `aux` lists the passes after colour: [], ["albedo"] or ["albedo", "normal"]. `half` stores the
    weights as float16 (lossless for OIDN's own weights, which it ships in float16)."""
    groups = ["color", *aux]
    cin = 3 * len(groups)
    net = net.eval()
    path = config.MODELS / name / f"{name}.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    axes = {0: "batch", 2: "height", 3: "width"}
    check = {"input": torch.rand(1, cin, 80, 112)}
    err = export_checked(net, (torch.rand(1, cin, 64, 64),), path, ["input"], ["output"],
                         {"input": axes, "output": axes}, check, tol=1e-4)
    if half:
        store_weights_half(path, ops={"Conv"}, min_elements=0)
    with torch.no_grad():
        want = net(check["input"]).numpy()
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {
        "input": check["input"].numpy()})[0]
    # Weights from float16 originals survive the round trip exactly; fine-tuned ones are rounded.
    half_err = float(np.abs(got - want).max())
    bpp = peak_bytes_per_pixel(path, cin)
    transfer = "pu" if hdr else "srgb"
    size = manifest.write(
        path, generator="models/train/denoise/export.py", task="denoise", version=version,
        description=description, transfer=transfer, notes=[*TRANSFER_NOTES[transfer], *extra_notes],
        inputs=[manifest.tensor("input", [-1, cin, -1, -1], (0, 1), channels=sum((CHANNELS[g] for g in groups), []))],
        outputs=[manifest.tensor("output", [-1, 3, -1, -1], (0, 1), channels=CHANNELS["color"])],
        table={"denoise": {"range": "hdr" if hdr else "ldr", "aux": list(aux), "spatial_multiple": SPATIAL_MULTIPLE,
                           "context": CONTEXT, "peak_bytes_per_pixel": bpp}},
        training=training)
    print(f"{name}: {size / 1e6:.2f} MB, ORT vs torch {max(err, half_err):.1e}, {bpp} bytes/px peak", flush=True)


FINETUNED = "denoise-hdr-alb-nrm-cycles"
IMPORTED = "denoise-hdr-alb-nrm"


def finetune_wins(summary, metric):
    """True when the fine-tune beats the imported network at every evaluated sample count on
    `metric` (0: PSNR, 1: SSIM)."""
    return all(v["finetuned"][metric] > v[IMPORTED][metric] for v in summary.values())


def main():
    import json
    import shutil

    import evaluate
    import train
    from config import OIDN_VERSION
    from oidn_weights import training_data

    evaluate.main()
    summary = json.loads((config.CKPT / "cycles-eval.json").read_text())["summary"]
    folder = config.MODELS / FINETUNED
    if not finetune_wins(summary, 0):
        if folder.exists():
            shutil.rmtree(folder)
        print(f"the fine-tune does not beat {IMPORTED} at every sample count: not shipped")
        return
    saved = torch.load(train.CKPT, weights_only=False)
    net = train.build()
    net.load_state_dict(saved["model"])
    cycles = manifest.training_data(
        f"{config.CYCLES_TRAIN} Cycles scenes rendered with Debian's Blender 3.4 by models/train/denoise/render_cycles.py",
        "generated by this project", "models/train/denoise/cycles_scene.py")
    export_network(
        net, FINETUNED, hdr=True, aux=["albedo", "normal"], version=f"{OIDN_VERSION}-cycles.{saved['state']['step']}",
        description=f"Intel OIDN {OIDN_VERSION} `rt_hdr_alb_nrm`, fine-tuned on Cycles renders (HDR, colour + albedo + normal)",
        training=[*training_data("rt_hdr_alb_nrm"), cycles],
        extra_notes=["Fine-tuned from Intel Open Image Denoise's weights (Apache-2.0, Intel Corporation);",
                     "see models/LICENSES/Apache-2.0.txt and CARD.md."],
        half=False)


if __name__ == "__main__":
    main()
