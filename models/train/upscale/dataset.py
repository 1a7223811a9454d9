"""Builds the upscaler's data set: high-resolution colour maps from Debian game-data packages
(nexuiz-textures, ufoai-textures, flightgear-data-base's terrain, and the few CC0, public-domain,
Zlib or Expat files of cube2-data and redeclipse-data).

A file is a colour map when its name carries no map suffix (normal, height, specular, glow,
mask...), it is at least MIN_SIZE on both sides, it is not block-compressed (DDS blocks would be
learnt as detail), has no cut-out alpha, is not grey (masks, heights) and does not look like a
normal map. Every file's licence comes from its package's copyright file; only config.TRAINABLE
licences are kept (the model is GPL-2.0-or-later). Images are stored as PNG at their own
resolution (centre-cropped to MAX_SIZE, never resampled: the network must learn real textures'
detail, not a resampler's). Near-duplicates across packages (same 16x16 thumbnail) are kept
once. HELD_OUT_PERCENT of the textures, by a hash of the name, are held out.

    python dataset.py   # resumable: an image already written is skipped
"""
import hashlib
import json
import sys

import numpy as np
from PIL import Image

import config
from common import packages

SOURCES = ("nexuiz-textures", "ufoai-textures", "flightgear-data-base", "cube2-data", "redeclipse-data")
NOT_COLOUR = ("_nm", "_n", "norm", "bump", "height", "_hm", "_z", "spec", "gloss", "_s", "_sc", "glow",
              "mask", "relief", "lum", "reflect", "shirt", "pants", "alpha", "_ao", "_occ", "light",
              "_h", "_g", "_l", "_d2", "blend")


def colour_stems(pkg):
    for stem in sorted(pkg.files):
        leaf = stem.rsplit("/", 1)[-1]
        if any(t in leaf for t in NOT_COLOUR):
            continue
        path = pkg.pick(stem)
        if path.lower().endswith(".dds"):
            continue
        yield stem, path


def check(img):
    """The image as uint8 RGB, or a reason to skip it."""
    w, h = img.size
    if min(w, h) < config.MIN_SIZE:
        return f"smaller than {config.MIN_SIZE}: {img.size}"
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        alpha = np.asarray(img.convert("RGBA").getchannel("A"))
        if (alpha < 250).mean() > 0.01:
            return "has alpha"
    a = np.asarray(img.convert("RGB"))
    f = a.astype(np.float32)
    if f.std() < 8:
        return "flat"
    if np.abs(f[..., 0] - f[..., 1]).mean() + np.abs(f[..., 1] - f[..., 2]).mean() < 2:
        return "grey"
    m = f.reshape(-1, 3).mean(0) / 255
    if abs(m[0] - 0.5) < 0.12 and abs(m[1] - 0.5) < 0.12 and m[2] > 0.7:
        return "a normal map"
    cw, ch = min(w, config.MAX_SIZE), min(h, config.MAX_SIZE)
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    return a[y0:y0 + ch, x0:x0 + cw]


def fingerprint(a):
    small = np.asarray(Image.fromarray(a).convert("L").resize((16, 16), Image.BOX), dtype=np.int32)
    return hashlib.sha256((small // 8).astype(np.uint8).tobytes()).hexdigest()[:16]


def split_of(name):
    digest = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
    return "heldout" if digest % 100 < config.HELD_OUT_PERCENT else "train"


def main():
    listing, seen = [], set()
    for pkg_name in SOURCES:
        pkg = packages.Package(pkg_name, config.DEBS, config.UNPACKED)
        kept = 0
        for stem, path in colour_stems(pkg):
            lic = pkg.licence(path)
            if lic not in config.TRAINABLE:
                continue
            name = f"{pkg_name}/{stem}"
            entry = {"name": name, "file": path, "licence": lic, "source": pkg.who, "split": split_of(name)}
            dest = config.DATA / entry["split"] / (name.replace("/", "__") + ".png")
            try:
                a = np.asarray(Image.open(dest)) if dest.exists() else check(pkg.open(path))
            except Exception as e:  # noqa: BLE001 - a damaged or exotic file is skipped
                a = f"unreadable: {e}"
            if isinstance(a, str):
                entry["skipped"] = a
                listing.append(entry)
                continue
            key = fingerprint(a)
            if key in seen:
                entry["skipped"] = "duplicate"
                listing.append(entry)
                continue
            seen.add(key)
            if not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                tmp = dest.with_suffix(".tmp.png")
                Image.fromarray(a).save(tmp)
                tmp.rename(dest)
            entry["size"] = [int(a.shape[1]), int(a.shape[0])]
            listing.append(entry)
            kept += 1
        print(f"{pkg_name}: {kept} colour maps", file=sys.stderr)
    tmp = config.DATA / "sources.tmp.json"
    tmp.write_text(json.dumps(listing, indent=1))
    tmp.rename(config.DATA / "sources.json")
    for part in ("train", "heldout"):
        kept = [e for e in listing if e["split"] == part and "skipped" not in e]
        print(f"{part}: {len(kept)} textures", file=sys.stderr)


def paths(part):
    return sorted(p for p in (config.DATA / part).glob("*.png") if not p.name.endswith(".tmp.png"))


def load(part):
    """Every stored image of `part` as uint8 RGB arrays."""
    return [np.asarray(Image.open(p).convert("RGB")) for p in paths(part)]


if __name__ == "__main__":
    main()
