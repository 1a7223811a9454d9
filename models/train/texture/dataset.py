"""Builds the texture data set: photographic, tileable colour maps grouped into material classes.

Sources (downloaded with `apt-get download`, unpacked into the git-ignored work folder):
- Debian `0ad-data` (CC-BY-SA-3.0, Wildfire Games): the terrain textures in `public.zip`
  (`art/textures/terrain/types/`, DXT-compressed DDS), all made to tile.
- Debian `supertuxkart-data`: only the files its copyright file marks CC0 that are material
  photographs (astro_turf.jpg, grass).

A texture joins a class when its file name names exactly one class (`grass_dirt_01` names two and
is left out, as are flat colours, test grids, water, lava and bridges). Each is stored at 256x256,
resized with wrap-around so it still tiles. Per class, HELD_OUT textures (chosen by a hash of the
name, so the split never changes) are kept for evaluation and never trained on.

    python dataset.py          # writes train.npz, heldout.npz and sources.json into the work folder
"""
import hashlib
import io
import json
import zipfile

import numpy as np
from PIL import Image

import config
from common import debian

ZAD_DEB, ZAD_ZIP = "0ad-data", "./usr/share/games/0ad/mods/public/public.zip"
ZAD_PREFIX = "art/textures/terrain/types/"
STK_DEB = "supertuxkart-data"
STK_CC0 = {"astro_turf.jpg": "grass"}
STK_DIR = "./usr/share/games/supertuxkart/data/textures/"

KEYWORDS = {
    "grass": ["grass", "meadow", "turf"],
    "rock": ["cliff", "rock", "rocks", "rocky", "granite", "mountainside", "boulder"],
    "sand": ["sand", "dune", "dunes", "beach"],
    "soil": ["dirt", "mud", "soil", "clay", "farmland", "furrows", "peat"],
    "snow": ["snow", "ice", "glacial", "glacier"],
    "paving": ["paving", "pavement", "tile", "road", "cobble", "cobbles", "plaza"],
}
EXCLUDE = ["test", "lava", "ocean", "sea", "coral", "underwater", "bridge", "wave", "grid", "blackness", "temp",
           "wet", "shore"]


def classify(name):
    """The one class a file name names, or None."""
    words = name.lower().replace("-", "_").replace(" ", "_").replace(".", "_").split("_")
    if any(w.startswith(x) for w in words for x in EXCLUDE):
        return None
    hits = {c for c, keys in KEYWORDS.items() for w in words if w in keys}
    return hits.pop() if len(hits) == 1 else None


def tileable_resize(img, size):
    """Resizes with wrap-around padding, so a tiling texture still tiles afterwards."""
    a = np.asarray(img.convert("RGB"))
    pad = a.shape[0] // 8
    big = np.pad(a, ((pad, pad), (pad, pad), (0, 0)), mode="wrap")
    scale = size / a.shape[0]
    out = Image.fromarray(big).resize((round(big.shape[1] * scale), round(big.shape[0] * scale)), Image.LANCZOS)
    p = round(pad * scale)
    return np.asarray(out)[p:p + size, p:p + size]


def sources():
    """(name, class, licence, attribution, loader) for every texture that joins a class."""
    out = []
    zpath = debian.member(debian.download(ZAD_DEB, config.DEBS), ZAD_ZIP, config.WORK / "0ad" / "public.zip")
    z = zipfile.ZipFile(zpath)
    for n in sorted(z.namelist()):
        low = n.lower()
        if not (low.startswith(ZAD_PREFIX) and low.endswith(".dds")) or "_norm" in low or "_spec" in low:
            continue
        base = n[len(ZAD_PREFIX):].split("/")[-1].split(".")[0]
        cls = classify(base)
        if cls:
            out.append((n[len(ZAD_PREFIX):], cls, "CC-BY-SA-3.0", "Wildfire Games (0 A.D.), Debian 0ad-data",
                        lambda n=n: Image.open(io.BytesIO(z.read(n)))))
    stk = debian.download(STK_DEB, config.DEBS)
    for name, cls in STK_CC0.items():
        path = debian.member(stk, STK_DIR + name, config.WORK / "stk" / name)
        out.append((f"supertuxkart/{name}", cls, "CC0-1.0", "SuperTuxKart, Debian supertuxkart-data",
                    lambda path=path: Image.open(path)))
    return out


def held_out(name):
    return hashlib.sha256(name.encode()).hexdigest()


def main():
    config.DATA.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, cls, lic, who, load in sources():
        try:
            img = load()
            if img.width != img.height or img.width < 128:
                continue
            entries.append((name, cls, lic, who, tileable_resize(img, config.SOURCE_SIZE)))
        except Exception as e:  # noqa: BLE001 - a few DDS variants Pillow cannot decode are skipped
            print(f"skip {name}: {e}")
    split = {"train": [], "heldout": []}
    for cls in config.CLASSES:
        members = sorted((e for e in entries if e[1] == cls), key=lambda e: held_out(e[0]))
        split["heldout"] += members[:config.HELD_OUT]
        split["train"] += members[config.HELD_OUT:]
    for part, items in split.items():
        images = np.stack([e[4] for e in items]).astype(np.uint8)
        labels = np.array([config.CLASSES.index(e[1]) for e in items], dtype=np.int64)
        tmp = config.DATA / f"{part}.tmp.npz"
        np.savez_compressed(tmp, images=images, labels=labels)
        tmp.rename(config.DATA / f"{part}.npz")
    listing = {part: [{"name": e[0], "class": e[1], "license": e[2], "source": e[3]} for e in items]
               for part, items in split.items()}
    (config.DATA / "sources.json").write_text(json.dumps(listing, indent=1))
    for cls in config.CLASSES:
        n = [sum(e["class"] == cls for e in listing[p]) for p in ("train", "heldout")]
        print(f"{cls}: {n[0]} train, {n[1]} held out")


def load(part):
    d = np.load(config.DATA / f"{part}.npz")
    return d["images"], d["labels"]


if __name__ == "__main__":
    main()
