"""Albedo textures for the training scenes: photographic terrain from Debian's `0ad-data`.

0 A.D. ships its art inside one 3.2 GB `public.zip` in the .deb, as DXT-compressed `.dds` files.
We take the diffuse terrain maps (not `_norm`/`_spec`), decode them with Pillow and store small
PNGs in the work folder. Licence: CC-BY-SA-3.0 (Wildfire Games), see the package's copyright file.
"""
import argparse
import io
import zipfile
from pathlib import Path

from PIL import Image

import config
from common import debian

DEB_NAME = "0ad-data"
ZIP_MEMBER = "./usr/share/games/0ad/mods/public/public.zip"
TERRAIN_PREFIX = "art/textures/terrain/types/"


def fetch_zip(work: Path) -> Path:
    """Downloads the .deb once and unpacks public.zip from it (resumable: skips what exists)."""
    return debian.member(debian.download(DEB_NAME, work / "debs"), ZIP_MEMBER, work / "0ad" / "public.zip")


def is_albedo(name: str) -> bool:
    low = name.lower()
    return (low.startswith(TERRAIN_PREFIX) and low.endswith(".dds")
            and "_norm" not in low and "_spec" not in low and "test" not in low)


def extract(out_dir: Path, size: int = 256) -> list[Path]:
    zpath = fetch_zip(config.WORK)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with zipfile.ZipFile(zpath) as z:
        for name in sorted(n for n in z.namelist() if is_albedo(n)):
            stem = name[len(TERRAIN_PREFIX):].split(".")[0].replace("/", "__")
            dst = out_dir / f"{stem}.png"
            if not dst.exists():
                try:
                    img = Image.open(io.BytesIO(z.read(name))).convert("RGB")
                except Exception as e:  # a few files use DDS variants Pillow cannot decode
                    print(f"skip {name}: {e}")
                    continue
                img.resize((size, size), Image.LANCZOS).save(dst.with_suffix(".part.png"))
                dst.with_suffix(".part.png").rename(dst)
            written.append(dst)
    return written


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=config.WORK / "textures")
    args = ap.parse_args()
    print(f"{len(extract(args.out))} textures in {args.out}")
