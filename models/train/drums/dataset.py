"""Hydrogen drum kits (Debian `hydrogen-drumkits`) -> 1 s mono 48 kHz one-shots per drum lane.

Downloads and unpacks the .deb into .work/ when missing, maps instrument names to the 9 lanes,
keeps every velocity layer, trims leading silence, peak-normalises, and splits each lane's samples
into train / held-out. Run as a script to write .work/drums-data/{train,heldout}.npz + index.json.
"""
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

import config

# Order matters: the first rule that matches names the lane. None drops the instrument.
RULES = [
    (r"stick|clap|cowbell|zap|fx|conga|whistle|china|swish|choke|flink|splash|roll|rim|click|drum [12]|redo", None),
    (r"kick|bass ?drum|bassdrum", "kick"),
    (r"snare", "snare"),
    (r"(hat|hh).*(open|op\b|opened|semi)|open hh|side ohh", "open_hat"),
    (r"(hat|hh)", "closed_hat"),
    (r"tom.*(low|floor)|low tom|floor tom", "low_tom"),
    (r"tom.*(hi|high|\b1\b)|high tom|tomhi", "high_tom"),
    (r"tom", "mid_tom"),
    (r"crash", "crash"),
    (r"ride", "ride"),
]


def lane_of(name):
    n = name.lower()
    for pattern, lane in RULES:
        if re.search(pattern, n):
            return lane
    return None


def ensure_kits():
    if config.KITS_DIR.exists():
        return
    config.DEB_DIR.mkdir(parents=True, exist_ok=True)
    debs = list(config.DEB_DIR.glob(f"{config.DEB}_*.deb"))
    if not debs:
        subprocess.run(["apt-get", "download", f"{config.DEB}={config.DEB_VERSION}"], cwd=config.DEB_DIR, check=True)
        debs = list(config.DEB_DIR.glob(f"{config.DEB}_*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(config.WORK / "hydrogen")], check=True)


def instruments(kit_dir):
    """(instrument name, sample file, gain) for every layer of a Hydrogen kit; the gain is what
    Hydrogen plays that layer at (instrument volume x instrument gain x layer gain)."""
    root = ET.parse(kit_dir / "drumkit.xml").getroot()
    ns = re.match(r"\{.*\}", root.tag)
    ns = ns.group(0) if ns else ""
    number = lambda el, tag: float(el.findtext(ns + tag) or 1.0)
    for ins in root.iter(ns + "instrument"):
        name = ins.findtext(ns + "name") or ""
        ins_gain = number(ins, "volume") * number(ins, "gain")
        # Hydrogen 0.9.3 kits name one file per instrument; later ones a <layer> per velocity.
        layers = list(ins.iter(ns + "layer")) or [ins]
        for layer in layers:
            f = layer.findtext(ns + "filename")
            if f:
                yield name, kit_dir / f, ins_gain * (number(layer, "gain") if layer is not ins else 1.0)


def load_one_shot(path):
    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    x = x.mean(1)
    if sr != config.SR:
        g = np.gcd(sr, config.SR)
        x = resample_poly(x, config.SR // g, sr // g).astype(np.float32)
    peak = np.abs(x).max()
    if not np.isfinite(peak) or peak < 1e-4:
        return None
    start = max(0, int(np.argmax(np.abs(x) > 0.02 * peak)) - 24)
    x = x[start:start + config.LENGTH]
    out = np.zeros(config.LENGTH, np.float32)
    out[:len(x)] = x
    fade = 480
    if len(x) >= config.LENGTH:
        out[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
    return out / np.abs(out).max() * 0.9


def build():
    ensure_kits()
    config.DATA.mkdir(parents=True, exist_ok=True)
    items = []
    for kit, (_license, _author, use) in config.KITS.items():
        if not use:
            continue
        for name, path, _gain in instruments(config.KITS_DIR / kit):
            lane = lane_of(name)
            if lane is None or not path.exists():
                continue
            audio = load_one_shot(path)
            if audio is not None:
                items.append((kit, name, path.name, lane, audio))
    rng = np.random.default_rng(0)
    split = {"train": [], "heldout": []}
    for lane in config.LANES:
        mine = [it for it in items if it[3] == lane]
        order = rng.permutation(len(mine))
        n_held = max(1, int(round(len(mine) * config.HELD_OUT)))
        for rank, i in enumerate(order):
            split["heldout" if rank < n_held else "train"].append(mine[i])
    index = {}
    for part, its in split.items():
        np.savez_compressed(config.DATA / f"{part}.npz", audio=np.stack([it[4] for it in its]),
                            lane=np.array([config.LANES.index(it[3]) for it in its]))
        index[part] = [dict(kit=it[0], instrument=it[1], file=it[2], lane=it[3]) for it in its]
    (config.DATA / "index.json").write_text(json.dumps(index, indent=1))
    for part, its in split.items():
        counts = {lane: sum(it[3] == lane for it in its) for lane in config.LANES}
        print(f"{part}: {len(its)} one-shots {counts}", file=sys.stderr)


def load(part):
    """One part's one-shots and lanes; the training part keeps only the kits of config.KIT_SET."""
    path = config.DATA / f"{part}.npz"
    if not path.exists():
        build()
    d = np.load(path)
    audio, lane = d["audio"], d["lane"]
    if part == "train" and config.KIT_SET == "permissive":
        index = json.loads((config.DATA / "index.json").read_text())[part]
        keep = np.array([config.KITS[it["kit"]][0] in config.PERMISSIVE_LICENSES for it in index])
        audio, lane = audio[keep], lane[keep]
    return audio, lane


if __name__ == "__main__":
    build()
