"""Intel OIDN's answer for the equivalence test (`cli/tests/oidn.rs`): denoises a frame given as
PFM files with pyoidn in every mode the engine has, and writes one PFM per mode.

    python oidn_reference.py DIR        # reads DIR/color.pfm, albedo.pfm, normal.pfm
Writes DIR/oidn_{hdr|ldr}{_alb}{_nrm}_{high|fast}.pfm. LDR: the engine reads display-referred
(sRGB-encoded) values, OIDN wants linear ones and applies the sRGB curve itself, so the colour is
decoded before and the result encoded after; the network sees the same numbers either way.
Runs with numpy and pyoidn only (the tools environment of `cargo xtask test`).
"""
import sys
from pathlib import Path

import numpy as np
import pyoidn


def read_pfm(path):
    with open(path, "rb") as f:
        if f.readline().strip() != b"PF":
            raise SystemExit(f"{path}: not a colour PFM")
        w, h = map(int, f.readline().split())
        scale = float(f.readline())
        data = np.frombuffer(f.read(), dtype="<f4" if scale < 0 else ">f4")
    return np.ascontiguousarray(data.reshape(h, w, 3)[::-1])


def write_pfm(path, img):
    h, w, _ = img.shape
    with open(path, "wb") as f:
        f.write(f"PF\n{w} {h}\n-1.0\n".encode())
        f.write(np.ascontiguousarray(img[::-1], dtype="<f4").tobytes())


def srgb_to_linear(x):
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(y):
    y = np.maximum(y, 0)
    return np.where(y <= 0.0031308, 12.92 * y, 1.055 * y ** (1 / 2.4) - 0.055).astype(np.float32)


def main():
    folder = Path(sys.argv[1])
    color, albedo, normal = (read_pfm(folder / f"{n}.pfm") for n in ("color", "albedo", "normal"))
    for hdr in (True, False):
        c = color if hdr else srgb_to_linear(np.clip(color, 0, 1))
        for aux, a, n in (("", None, None), ("_alb", albedo, None), ("_alb_nrm", albedo, normal)):
            for quality in ("high", "fast"):
                out = pyoidn.denoise(c, a, n, hdr=hdr, quality=quality)
                out = out if hdr else np.clip(linear_to_srgb(out), 0, 1)
                write_pfm(folder / f"oidn_{'hdr' if hdr else 'ldr'}{aux}_{quality}.pfm", out)


if __name__ == "__main__":
    main()
