"""Scores the exported ONNX denoisers and Intel Open Image Denoise (pyoidn, quality "high", same
aux buffers) on the validation scenes, which were never trained on.

PSNR and SSIM are computed on tone-mapped images (Reinhard x/(1+x), then sRGB), the same measure
as the Rust integration test. Writes .work/denoise-ckpt/eval.json and sample pictures.

    python evaluate.py
"""
import json

import numpy as np
import onnxruntime as ort
import pyoidn
from PIL import Image

import config
import transfer

SPPS = (4, 16, 64)


def tonemap(x):
    x = np.maximum(x, 0)
    x = x / (1 + x)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)


def psnr(a, b):
    mse = float(np.mean((tonemap(a) - tonemap(b)) ** 2))
    return 10 * np.log10(1 / max(mse, 1e-12))


def _gauss_filter(img, sigma=1.5, radius=5):
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    pad = np.pad(img, ((radius, radius), (radius, radius)), mode="reflect")
    tmp = sum(k[i] * pad[:, i:i + img.shape[1]] for i in range(2 * radius + 1))
    return sum(k[i] * tmp[i:i + img.shape[0], :] for i in range(2 * radius + 1))


def ssim(a, b):
    """Mean SSIM over RGB channels of the tone-mapped images (Wang et al. 2004 constants)."""
    a, b = tonemap(a), tonemap(b)
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    vals = []
    for c in range(3):
        x, y = a[..., c].astype(np.float64), b[..., c].astype(np.float64)
        mx, my = _gauss_filter(x), _gauss_filter(y)
        sxx = _gauss_filter(x * x) - mx * mx
        syy = _gauss_filter(y * y) - my * my
        sxy = _gauss_filter(x * y) - mx * my
        s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
        vals.append(s.mean())
    return float(np.mean(vals))


def run_ours(session, color, albedo, normal, with_aux):
    e = transfer.autoexposure(color)
    x = transfer.network_input(color, albedo, normal, e, with_aux)
    t = session.run(None, {"input": x})[0][0].transpose(1, 2, 0)
    return transfer.inverse(t, e)


def main():
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sessions = {n: ort.InferenceSession(str(config.MODELS / n / f"{n}.onnx"), so, providers=["CPUExecutionProvider"])
                for n in config.VARIANTS}
    files = sorted((config.DATA / "val").glob("scene_*.npz"))
    methods = ["noisy", "ours_color", "oidn_color", "ours_aux", "oidn_aux"]
    results = {spp: {m: {"psnr": [], "ssim": []} for m in methods} for spp in SPPS}
    pictures = []
    for fi, f in enumerate(files):
        d = np.load(f)
        ref = d["ref"].astype(np.float32)
        for spp in SPPS:
            color = d[f"color_{spp}"].astype(np.float32)
            albedo = np.clip(d[f"albedo_{spp}"].astype(np.float32), 0, 1)
            normal = np.clip(d[f"normal_{spp}"].astype(np.float32), -1, 1)
            out = {
                "noisy": color,
                "ours_color": run_ours(sessions["denoise-color"], color, albedo, normal, False),
                "oidn_color": pyoidn.denoise(color, hdr=True, quality="high"),
                "ours_aux": run_ours(sessions["denoise-color-aux"], color, albedo, normal, True),
                "oidn_aux": pyoidn.denoise(color, albedo, normal, hdr=True, quality="high"),
            }
            for m, img in out.items():
                results[spp][m]["psnr"].append(psnr(img, ref))
                results[spp][m]["ssim"].append(ssim(img, ref))
            if spp == 16 and fi < 4:
                pictures.append(np.concatenate([tonemap(out[m]) for m in ("noisy", "ours_aux", "oidn_aux")]
                                               + [tonemap(ref)], 1))
        print(f"{f.name} done", flush=True)
    summary = {str(spp): {m: {k: float(np.mean(v)) for k, v in r.items()} for m, r in res.items()}
               for spp, res in results.items()}
    summary["scenes"] = len(files)
    (config.CKPT / "eval.json").write_text(json.dumps(summary, indent=1))
    grid = (np.clip(np.concatenate(pictures, 0), 0, 1) * 255).astype(np.uint8)
    Image.fromarray(grid).save(config.MODELS / "denoise-color-aux" / "samples_16spp.png")
    for spp in SPPS:
        print(spp, {m: f"{summary[str(spp)][m]['psnr']:.2f}/{summary[str(spp)][m]['ssim']:.3f}" for m in methods})


if __name__ == "__main__":
    main()
