"""Measures the upscaler the way its card reports it, on the held-out textures.

For each held-out texture, the high-resolution image is its centre (at most 512 px a side,
sides a multiple of 4); the input is that image reduced by 2 or 4 with PIL's antialiased
bicubic filter, rounded to 8 bits. Ours runs through the command line (`latentforge upscale
--no-wrap`: the crops do not tile), as users run it; Lanczos and bicubic are PIL's. Metrics against
the real image, on 8-bit outputs (with the outside anchor, `@upscalerjs/esrgan-medium` from npm,
run by anchor.py): PSNR (dB, RGB), SSIM (luminance, 11-px Gaussian window) and
SWD (the texture card's multi-scale sliced Wasserstein distance, x1e3, over the whole set).

Seams: held-out textures that tile (seam score at most 1.1 at full size) are reduced by 4 (with
their wrap-around as context, so the input tiles too) and upscaled whole by every method; the table gives each method's seam score (1.0: the wrap-around
edge looks like any other pair of neighbours).

    python evaluate.py [--onnx PATH] [--limit N]   # -> .work/upscale-eval/eval.json
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

import anchor
import config
import dataset
from common.image_metrics import seam_score, swd

CROP = 512
SCALES = (2, 4)


def psnr(a, b):
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0 ** 2 / max(mse, 1e-10))


def gaussian_blur(x, sigma=1.5, radius=5):
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    for axis in (0, 1):
        x = sum(w * np.roll(x, s, axis=axis) for w, s in zip(k, range(-radius, radius + 1), strict=True))
    return x


def ssim(a, b):
    """Mean SSIM of the luminance (Wang et al. 2004 constants), away from the wrapped border."""
    lum = np.array([0.299, 0.587, 0.114])
    x, y = a.astype(np.float64) @ lum, b.astype(np.float64) @ lum
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = gaussian_blur(x), gaussian_blur(y)
    vx, vy = gaussian_blur(x * x) - mx * mx, gaussian_blur(y * y) - my * my
    cov = gaussian_blur(x * y) - mx * my
    m = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(m[5:-5, 5:-5].mean())


def phase_seam(img, s):
    """The seam score against the neighbour pairs of the same phase of the s x s output grid
    only: an upscaler's pairs that cross an input pixel's border differ more than those inside
    it (for every method), and the wrap-around pair is always a crossing pair."""
    img = img.astype(np.float64)
    right = np.abs(img - np.roll(img, -1, axis=1)).mean(axis=2)
    down = np.abs(img - np.roll(img, -1, axis=0)).mean(axis=2)
    h, w = right.shape
    cols = [c for c in range(w - 1) if c % s == (w - 1) % s]
    rows = [r for r in range(h - 1) if r % s == (h - 1) % s]
    seam = np.concatenate([right[:, -1], down[-1, :]])
    inside = np.concatenate([right[:, cols].ravel(), down[rows, :].ravel()])
    return float(seam.mean() / max(inside.mean(), 1e-12))


def centre(img):
    h, w = img.shape[:2]
    ch, cw = min(h, CROP) // 4 * 4, min(w, CROP) // 4 * 4
    y, x = (h - ch) // 2, (w - cw) // 2
    return img[y:y + ch, x:x + cw]


def reduce(img, s):
    h, w = img.shape[:2]
    return np.asarray(Image.fromarray(img).resize((w // s, h // s), Image.BICUBIC))


def reduce_wrapped(img, s, pad=16):
    """`reduce` of a tiling image with its wrap-around as context: the input stays tileable."""
    small = reduce(np.pad(img, ((pad, pad), (pad, pad), (0, 0)), mode="wrap"), s)
    return small[pad // s: -pad // s, pad // s: -pad // s]


def pil_up(img, s, method):
    h, w = img.shape[:2]
    return np.asarray(Image.fromarray(img).resize((w * s, h * s), method))


def cli(inputs, out_dir, scale, wrap, models):
    """Upscales `inputs` with the command line into `out_dir`; returns the seconds it took."""
    exe = config.ROOT / "target" / "release" / "latentforge"
    args = [str(exe), "--models", str(models), "-q", "upscale", *map(str, inputs), "--scale", str(scale),
            "--out-dir", str(out_dir), "--force"]
    if not wrap:
        args.append("--no-wrap")
    t0 = time.time()
    subprocess.run(args, check=True, env=os.environ | {"LATENTFORGE_ORT": os.environ.get(
        "LATENTFORGE_ORT", str(config.ROOT / ".ort/cpu/libonnxruntime.so.1.31.1"))})
    return time.time() - t0


def variant_models(name, blend):
    """A models folder holding the last checkpoint exported with `blend` x the L1-only generator
    (1: as L1 training alone left it, before the critic joined; 0: the critic-trained one); None
    when the run never reached the critic."""
    if not (config.CKPT / "upscale-l1.pt").exists():
        return None
    folder = config.WORK / f"upscale-{name}"
    subprocess.run([sys.executable, "export.py", "--blend", str(blend), "--out", str(folder / config.NAME),
                    "--keep-float32", "no"], check=True)
    return folder


def half_check(models, lr_images):
    """What storing the weights as float16 changes: the shipped file against the float32 export
    on the same inputs (0..1 values; PSNR of the 8-bit outputs to each other)."""
    import onnxruntime as ort
    full = config.WORK / "upscale-float32.onnx"
    if not full.exists():
        return None
    sessions = [ort.InferenceSession(str(p), providers=["CPUExecutionProvider"])
                for p in (full, models / config.NAME / f"{config.NAME}.onnx")]
    worst, psnrs = 0.0, []
    for lr in lr_images:
        x = (lr.astype(np.float32) / 255).transpose(2, 0, 1)[None]
        a, b = (s.run(None, {"colour": x})[0] for s in sessions)
        worst = max(worst, float(np.abs(a - b).max()))
        q = [np.clip(np.round(v * 255), 0, 255) for v in (a, b)]
        psnrs.append(psnr(q[0], q[1]))
    return {"max_abs": worst, "psnr_8bit": float(np.min(psnrs)), "images": len(lr_images)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=Path, default=config.MODELS, help="models folder holding upscale/")
    ap.add_argument("--limit", type=int, default=0, help="only the first N held-out textures")
    ap.add_argument("--out", type=Path, default=config.EVAL / "eval.json")
    ap.add_argument("--no-anchor", action="store_true", help="leave out the npm ESRGAN models")
    a = ap.parse_args()
    anchors = {} if a.no_anchor else anchor.models()
    variants = {"ours": a.models}
    for name, blend in (("ours_l1_only", 1.0), ("ours_critic", 0.0)):
        if blend != config.L1_BLEND and (folder := variant_models(name, blend)) is not None:
            variants[name] = folder
    paths = dataset.paths("heldout")[: a.limit or None]
    work = config.EVAL / "work"
    shutil.rmtree(work, ignore_errors=True)
    result = {"textures": len(paths), "crop": CROP, "scales": {}}
    names = [p.stem for p in paths]
    hr = {n: centre(np.asarray(Image.open(p).convert("RGB"))) for n, p in zip(names, paths, strict=True)}
    for s in SCALES:
        lr_dir = work / f"lr{s}"
        lr_dir.mkdir(parents=True)
        for n in names:
            Image.fromarray(reduce(hr[n], s)).save(lr_dir / f"{n}.png")
        seconds = {v: cli(sorted(lr_dir.glob("*.png")), work / f"{v}{s}", s, False, m) for v, m in variants.items()}
        rows = {}
        outs = {v: [] for v in variants} | {"lanczos": [], "bicubic": []} | (
            {"esrgan_medium": []} if anchors else {})
        lrs = []
        for n in names:
            lr = np.asarray(Image.open(lr_dir / f"{n}.png"))
            lrs.append(lr)
            for v in variants:
                outs[v].append(np.asarray(Image.open(work / f"{v}{s}" / f"{n}_x{s}.png").convert("RGB")))
            outs["lanczos"].append(pil_up(lr, s, Image.LANCZOS))
            outs["bicubic"].append(pil_up(lr, s, Image.BICUBIC))
            if anchors:
                up = anchor.upscale(anchors[s], lr)
                (work / f"anchor{s}").mkdir(exist_ok=True)
                Image.fromarray(up).save(work / f"anchor{s}" / f"{n}.png")
                outs["esrgan_medium"].append(up)
        real = [hr[n] / 255.0 for n in names]
        for method, imgs in outs.items():
            rows[method] = {
                "psnr": float(np.mean([psnr(i, hr[n]) for i, n in zip(imgs, names, strict=True)])),
                "ssim": float(np.mean([ssim(i, hr[n]) for i, n in zip(imgs, names, strict=True)])),
                "swd": swd([i / 255.0 for i in imgs], real)[1],
            }
            print(f"{s}x {method}: {rows[method]}", file=sys.stderr)
        rows["ours_seconds"] = seconds["ours"]
        # Per texture, ours minus Lanczos at this scale: how often we win.
        gains = [psnr(o, hr[n]) - psnr(lz, hr[n])
                 for o, lz, n in zip(outs["ours"], outs["lanczos"], names, strict=True)]
        rows["psnr_gain_over_lanczos"] = {"mean": float(np.mean(gains)), "wins": int(np.sum(np.array(gains) > 0)),
                                          "of": len(gains)}
        result["scales"][str(s)] = rows
        if s == 4:
            result["float16"] = half_check(a.models, lrs[:8])
    # Seams: the held-out textures that tile, reduced by 4 and upscaled whole.
    tiling = [p for p in paths if seam_score(np.asarray(Image.open(p).convert("RGB"), np.float64)) <= 1.1]
    seam_dir, seam_out = work / "seam-lr", work / "seam-ours"
    seam_dir.mkdir(parents=True)
    if not tiling:
        raise SystemExit("no held-out texture tiles: nothing to measure seams on")
    for p in tiling:
        Image.fromarray(reduce_wrapped(np.asarray(Image.open(p).convert("RGB")), 4)).save(seam_dir / f"{p.stem}.png")
    cli(sorted(seam_dir.glob("*.png")), seam_out, 4, True, a.models)
    methods = ("ours", "lanczos", "bicubic") + (("esrgan_medium",) if anchors else ())
    seams = {k: [] for k in ("original", "input", *methods, *(f"{m}_phase" for m in methods))}
    for p in tiling:
        lr = np.asarray(Image.open(seam_dir / f"{p.stem}.png"))
        seams["original"].append(seam_score(np.asarray(Image.open(p).convert("RGB"), np.float64)))
        seams["input"].append(seam_score(lr.astype(np.float64)))
        ups = {"ours": np.asarray(Image.open(seam_out / f"{p.stem}_x4.png").convert("RGB")),
               "lanczos": pil_up(lr, 4, Image.LANCZOS), "bicubic": pil_up(lr, 4, Image.BICUBIC)}
        if anchors:
            ups["esrgan_medium"] = anchor.upscale(anchors[4], lr)
        for k, img in ups.items():
            seams[k].append(seam_score(img.astype(np.float64)))
            seams[f"{k}_phase"].append(phase_seam(img, 4))
    result["seams"] = {"textures": len(tiling),
                       **{k: {"mean": float(np.mean(v)), "max": float(np.max(v))} for k, v in seams.items()}}
    print(f"seams over {len(tiling)} tiling textures: {result['seams']}", file=sys.stderr)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = a.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(a.out)


if __name__ == "__main__":
    main()
