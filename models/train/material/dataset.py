"""Builds the material data set: colour maps paired with the normal, height and specular/gloss
maps their artists made, from five Debian game-data packages.

Pairing is by file name. A normal map (`X_nm`, `X_n`, `X_norm`, `X_normal`, `X_nor`) joins the
colour map `X` (or `X_cc`, `X_col`, `X_d`), a height map `X_hm`, `X_z`, `X_bump`, `X_height` (or
the normal map's alpha channel when it varies, as 0 A.D. stores parallax height) and a
specular/gloss map `X_sc`, `X_s`, `X_spec`, `X_gloss`, whose luminance gives roughness as
1 - luminance (a proxy: none of these packages has true roughness maps, and none has AO).

Every file's licence is read from its package's copyright file (DEP-5, last matching paragraph);
a material trains only when all of its files carry a licence in config.TRAINABLE. The others
(GPL: all of nexuiz, most of ufoai) are kept as a second held-out set, for evaluation only.
Of the trainable materials, HELD_OUT_PERCENT (by a hash of the name: whole materials, never crops)
are held out too.

Normal maps come in two conventions (green up or down); each map's is found from its
integrability (the curl of the slope field is small only under the right one) and every map is
stored green-up (OpenGL). Each material is stored at most MAX_SIZE wide as one .npz:
`colour` (uint8 RGB), `normal` (uint8 RGB, green up), and optionally `height` (float16, 0..1)
and `rough` (uint8).

    python dataset.py   # resumable: a material already written is skipped
"""
import hashlib
import json
import sys

import numpy as np
from PIL import Image

import config
from common import packages

NORMAL = ("_nm", "_n", "_norm", "_normal", "_nor")
COLOUR = ("", "_cc", "_col", "_d")
HEIGHT = ("_hm", "_z", "_bump", "_height")
SPECULAR = ("_sc", "_s", "_spec", "_gloss")
SOURCES = ("cube2-data", "redeclipse-data", "0ad-data", "ufoai-textures", "nexuiz-textures")


def open_package(name):
    return packages.Package(name, config.DEBS, config.UNPACKED)


def materials(pkg):
    """(name, {role: path}) for every normal map with a colour map beside it."""
    for stem in sorted(pkg.files):
        suffix = next((s for s in NORMAL if stem.endswith(s)), None)
        if suffix is None:
            continue
        base = stem[: -len(suffix)]
        roles = {"normal": pkg.pick(stem)}
        for role, suffixes in (("colour", COLOUR), ("height", HEIGHT), ("spec", SPECULAR)):
            found = next((pkg.pick(base + s) for s in suffixes if pkg.pick(base + s)), None)
            if found:
                roles[role] = found
        if "colour" in roles:
            yield f"{pkg.name}/{base}", roles


def decode_normal(img):
    """Unit normals (H, W, 3) in the file's own convention, or None when it is not a normal map."""
    a = np.asarray(img.convert("RGB"), dtype=np.float32) / 127.5 - 1.0
    n = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-6)
    if n[..., 2].mean() < 0.5 or np.linalg.norm(a, axis=-1).mean() < 0.7:
        return None
    return n


def green_down(n):
    """True when the map's green points down (DirectX): under the right convention the slope
    field (gx, gy) = (-nx/nz, ±ny/nz) is a gradient, so d(gx)/drow equals d(gy)/dcol."""
    nz = np.maximum(n[..., 2], 0.1)
    gx, gy_up = -n[..., 0] / nz, n[..., 1] / nz
    a = np.roll(gx, -1, 0) - np.roll(gx, 1, 0)
    b = np.roll(gy_up, -1, 1) - np.roll(gy_up, 1, 1)
    return float((a * b).mean()) < 0


def slope_agreement(height, n):
    """Correlation of a height map's slopes with a (green-up) normal map's."""
    d_col = np.roll(height, -1, 1) - np.roll(height, 1, 1)
    d_row = np.roll(height, -1, 0) - np.roll(height, 1, 0)
    a = np.concatenate([d_col.ravel(), d_row.ravel()])
    b = np.concatenate([-n[..., 0].ravel(), n[..., 1].ravel()])
    return float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else 0.0


def resize(a, size, resample=Image.LANCZOS):
    """Each channel of a float array resized to size x size (as floats, wrapping nothing)."""
    if a.shape[0] == size and a.shape[1] == size:
        return a
    chans = [np.asarray(Image.fromarray(a[..., c]).resize((size, size), resample)) for c in range(a.shape[-1])]
    return np.stack(chans, -1)


def build(name, pkg, roles):
    """The stored arrays of one material, or a reason to skip it."""
    colour = pkg.open(roles["colour"])
    normal_img = pkg.open(roles["normal"])
    w, h = colour.size
    if w != h or normal_img.size[0] != normal_img.size[1] or w < config.MIN_SIZE:
        return f"not square or smaller than {config.MIN_SIZE}: {colour.size}, {normal_img.size}"
    if colour.mode in ("RGBA", "LA") and (np.asarray(colour.getchannel("A")) < 128).mean() > 0.05:
        return "cut-out (alpha)"
    n = decode_normal(normal_img)
    if n is None:
        return "normal map does not decode as tangent-space normals"
    if np.abs(n[..., :2]).mean() < 0.01:
        return "flat normal map"
    flipped = green_down(n)
    if flipped:
        n[..., 1] *= -1
    size = min(w, config.MAX_SIZE)
    col = np.asarray(colour.convert("RGB").resize((size, size), Image.LANCZOS), dtype=np.uint8)
    if float(col.astype(np.float32).std()) < 2.0:
        return "flat colour"
    n = resize(n, size)
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-6)
    out = {"colour": col, "normal": np.clip(np.round(n * 127.5 + 127.5), 0, 255).astype(np.uint8)}
    height = None
    if "height" in roles:
        height = pkg.open(roles["height"]).convert("F")
    elif normal_img.mode == "RGBA" and np.asarray(normal_img.getchannel("A")).std() > 4:
        height = normal_img.getchannel("A").convert("F")
    if height is not None:
        ha = np.asarray(height.resize((size, size), Image.LANCZOS), dtype=np.float32)
        lo, hi = np.percentile(ha, [0.5, 99.5])
        # A height map must agree with its normal map (0 A.D.'s alpha is not always height).
        if hi - lo > 2 and slope_agreement(ha, n) > 0.3:
            out["height"] = np.clip((ha - lo) / (hi - lo), 0, 1).astype(np.float16)
    if "spec" in roles:
        spec = np.asarray(pkg.open(roles["spec"]).convert("L").resize((size, size), Image.LANCZOS))
        if spec.std() > 1:
            out["rough"] = (255 - spec).astype(np.uint8)
    out["meta"] = json.dumps({"flipped_green": flipped, "size": w})
    return out


def split_of(name, trainable):
    if not trainable:
        return "other"
    digest = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
    return "heldout" if digest % 100 < config.HELD_OUT_PERCENT else "train"


def main():
    listing = []
    for pkg_name in SOURCES:
        pkg = open_package(pkg_name)
        found = list(materials(pkg))
        print(f"{pkg_name}: {len(found)} normal maps with a colour map", file=sys.stderr)
        for name, roles in found:
            licences = {role: pkg.licence(path) for role, path in roles.items()}
            trainable = all(lic in config.TRAINABLE for lic in licences.values())
            part = split_of(name, trainable)
            entry = {"name": name, "split": part, "files": roles, "licences": licences, "source": pkg.who}
            dest = config.DATA / part / (name.replace("/", "__") + ".npz")
            if not dest.exists():
                try:
                    arrays = build(name, pkg, roles)
                except Exception as e:  # noqa: BLE001 - a damaged or exotic file skips its material
                    arrays = f"unreadable: {e}"
                if isinstance(arrays, str):
                    entry["skipped"] = arrays
                    listing.append(entry)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                tmp = dest.with_suffix(".tmp.npz")
                np.savez(tmp, **arrays)
                tmp.rename(dest)
            with np.load(dest) as d:
                entry["maps"] = [k for k in ("height", "rough") if k in d]
                entry["flipped_green"] = json.loads(str(d["meta"]))["flipped_green"]
            listing.append(entry)
    tmp = config.DATA / "sources.tmp.json"
    tmp.write_text(json.dumps(listing, indent=1))
    tmp.rename(config.DATA / "sources.json")
    for part in ("train", "heldout", "other"):
        kept = [e for e in listing if e["split"] == part and "skipped" not in e]
        print(f"{part}: {len(kept)} materials, {sum('height' in e['maps'] for e in kept)} with height, "
              f"{sum('rough' in e['maps'] for e in kept)} with specular", file=sys.stderr)


def load(part):
    """Every stored material of `part` as a dict of arrays (height/rough only where present)."""
    out = []
    for path in sorted((config.DATA / part).glob("*.npz")):
        if path.name.endswith(".tmp.npz"):
            continue
        with np.load(path) as d:
            out.append({"name": path.stem, **{k: d[k] for k in d.files if k != "meta"}})
    return out


if __name__ == "__main__":
    main()
