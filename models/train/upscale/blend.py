"""Chooses the share of the L1-only generator in the shipped weights (ESRGAN's network
interpolation between the PSNR-trained and the critic-trained generator) on training textures,
never the held-out ones: for each share, 4x PSNR and SWD of `latentforge upscale` on the centres
of BLEND_TEXTURES training textures, beside Lanczos. Prints a table; the chosen share goes into
config.L1_BLEND.

    python blend.py [--shares 0,0.5,0.7,0.85,1]
"""
import argparse
import json
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image

import config
import dataset
from common.image_metrics import swd
from evaluate import centre, cli, pil_up, psnr, reduce

BLEND_TEXTURES = 40


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shares", default="0,0.5,0.7,0.85,1")
    a = ap.parse_args()
    paths = dataset.paths("train")[:: max(1, len(dataset.paths("train")) // BLEND_TEXTURES)][:BLEND_TEXTURES]
    work = config.EVAL / "blend"
    shutil.rmtree(work, ignore_errors=True)
    (work / "lr").mkdir(parents=True)
    hr = {p.stem: centre(np.asarray(Image.open(p).convert("RGB"))) for p in paths}
    for n, img in hr.items():
        Image.fromarray(reduce(img, 4)).save(work / "lr" / f"{n}.png")
    real = [hr[n] / 255.0 for n in hr]
    lanczos = [pil_up(np.asarray(Image.open(work / "lr" / f"{n}.png")), 4, Image.LANCZOS) for n in hr]
    rows = {"lanczos": {"psnr": float(np.mean([psnr(o, hr[n]) for o, n in zip(lanczos, hr, strict=True)])),
                        "swd": swd([o / 255.0 for o in lanczos], real)[1]}}
    for share in map(float, a.shares.split(",")):
        models = work / f"models-{share}"
        subprocess.run([sys.executable, "export.py", "--blend", str(share), "--out", str(models / config.NAME),
                        "--keep-float32", "no"], check=True)
        cli(sorted((work / "lr").glob("*.png")), work / f"out-{share}", 4, False, models)
        outs = [np.asarray(Image.open(work / f"out-{share}" / f"{n}_x4.png").convert("RGB")) for n in hr]
        rows[share] = {"psnr": float(np.mean([psnr(o, hr[n]) for o, n in zip(outs, hr, strict=True)])),
                       "swd": swd([o / 255.0 for o in outs], real)[1]}
        print(f"share {share}: {rows[share]}", file=sys.stderr)
    print(json.dumps(rows, indent=1))
    (config.EVAL / "blend.json").write_text(json.dumps({"textures": len(hr), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
