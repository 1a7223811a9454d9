"""Scores the denoisers on the held-out Cycles scenes (never trained on) at 4, 16 and 64 spp:
the noisy input, every imported HDR network (each with the passes it takes), the Cycles
fine-tune, and pyoidn (quality high and fast, albedo + normal); PSNR and SSIM on display values
(Reinhard x/(1+x), then sRGB: what `latentforge denoise --reference` prints). Writes
.work/denoise-ckpt/cycles-eval.json and a sample sheet (noisy / imported / fine-tuned / pyoidn
high / reference).

    python evaluate.py
"""
import json

import numpy as np
import pyoidn
import torch
from PIL import Image

import config
import cycles_data
import train
import transfer
from config import AUX_SETS, SIZES, model_name, oidn_name
from model import UNet
from oidn_weights import load_all


def display(v):
    v = np.maximum(np.nan_to_num(v), 0)
    return transfer.srgb_forward(v / (1 + v))


def gaussian(img):
    """Separable Gaussian blur (sigma 1.5, radius 5) over H x W (x C), normalised over the taps
    inside the image, as the engine's metrics do."""
    taps = list(zip(np.exp(-np.arange(-5, 6) ** 2 / (2 * 1.5 ** 2)), range(-5, 6), strict=True))
    ones = np.ones_like(img)
    for axis in (0, 1):
        img = sum(t * shifted(img, k, axis) for t, k in taps) / sum(t * shifted(ones, k, axis) for t, k in taps)
    return img


def shifted(a, k, axis):
    """a moved by k along axis, zeros where nothing moved in (no wrap-around)."""
    out = np.zeros_like(a)
    n = a.shape[axis]
    src = [slice(None)] * a.ndim
    dst = [slice(None)] * a.ndim
    if k >= 0:
        src[axis], dst[axis] = slice(0, n - k), slice(k, n)
    else:
        src[axis], dst[axis] = slice(-k, n), slice(0, n + k)
    out[tuple(dst)] = a[tuple(src)]
    return out


def scores(img, ref):
    a, b = display(img).astype(np.float64), display(ref).astype(np.float64)
    mse = float(np.mean((a - b) ** 2))
    psnr = 200.0 if mse <= 1e-20 else 10 * np.log10(1 / mse)
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mx, my = gaussian(a), gaussian(b)
    vx, vy, cxy = gaussian(a * a) - mx * mx, gaussian(b * b) - my * my, gaussian(a * b) - mx * my
    ssim = float(np.mean((2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2))))
    return psnr, ssim


def run_net(net, color, albedo, normal):
    """OIDN's preparation around a network, padded to a multiple of 16 by repeating edges."""
    scale = transfer.autoexposure(color)
    h, w, _ = color.shape
    ph, pw = -(-h // 16) * 16, -(-w // 16) * 16
    x = transfer.network_input(color, albedo, normal, True, scale)
    x = np.pad(x, ((0, 0), (0, 0), (0, ph - h), (0, pw - w)), mode="edge")
    with torch.no_grad():
        y = net(torch.from_numpy(x))[0, :, :h, :w].numpy().transpose(1, 2, 0)
    return transfer.inverse(y, True, scale)


def main():
    scenes = cycles_data.load("heldout")
    weights = load_all()
    nets = {}
    for aux_suffix, aux in AUX_SETS.items():
        for size_suffix in SIZES:
            nets[model_name(True, aux_suffix, size_suffix)] = (
                UNet.from_oidn(weights[oidn_name(True, aux_suffix, size_suffix)]).eval(), len(aux))
    if train.CKPT.exists():
        tuned = train.build()
        tuned.load_state_dict(torch.load(train.CKPT, weights_only=False)["model"])
        nets["finetuned"] = (tuned.eval(), 2)
    methods = ["noisy", *nets, "pyoidn_high", "pyoidn_fast"]
    rows, sheet = [], []
    for s in scenes:
        for spp in config.CYCLES_EVAL_SPP:
            color, albedo, normal = s[spp]
            outs = {"noisy": color}
            for name, (net, passes) in nets.items():
                outs[name] = run_net(net, color, albedo if passes else None, normal if passes == 2 else None)
            for q in ("high", "fast"):
                outs[f"pyoidn_{q}"] = pyoidn.denoise(color, albedo, normal, hdr=True, quality=q)
            row = {"scene": s["name"], "spp": spp}
            for m in methods:
                row[m] = scores(outs[m], s["ref"])
            rows.append(row)
            if spp == 16 and len(sheet) < 4:
                shown = ["noisy", "denoise-hdr-alb-nrm", *(["finetuned"] if "finetuned" in outs else []),
                         "pyoidn_high"]
                sheet.append(np.concatenate([display(outs[m]) for m in shown] + [display(s["ref"])], 1))
    summary = {}
    for spp in config.CYCLES_EVAL_SPP:
        sel = [r for r in rows if r["spp"] == spp]
        summary[spp] = {m: [float(np.mean([r[m][i] for r in sel])) for i in (0, 1)] for m in methods}
    out = config.CKPT / "cycles-eval.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"scenes": len(scenes), "methods": methods, "summary": summary, "rows": rows,
                               "sheet": ["noisy", "imported", *(["finetuned"] if "finetuned" in nets else []),
                                         "pyoidn high", "reference"]}, indent=1))
    grid = (np.clip(np.concatenate(sheet, 0), 0, 1) * 255).astype(np.uint8)
    Image.fromarray(grid).save(config.CKPT / "cycles-samples.png")
    for spp, m in summary.items():
        print(spp, "spp:", "  ".join(f"{k} {v[0]:.2f} dB / {v[1]:.4f}" for k, v in m.items()))


if __name__ == "__main__":
    main()
