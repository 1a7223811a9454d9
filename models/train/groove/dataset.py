"""Groove MIDI Dataset -> 2-bar windows of (hit, velocity, offset) per 16th step and drum class.

Offsets are the played onset's distance from its 16th-note grid line, in steps, in [-0.5, 0.5).
Windows hop one bar; a step/class cell keeps its loudest hit. Only 4/4 files are used; windows
with fewer than 4 hits (silence before the count-in, end of a fill) are dropped.
Run as a script to write .work/groove-data/{train,validation}.npz.
"""
import csv
import sys

import mido
import numpy as np

import config
from common import manifest

# How the model manifests credit the data.
TRAINING_DATA = manifest.training_data(
    "Groove MIDI Dataset (train split), Gillick, Roberts, Engel, Eck, Bamman (Magenta), ICML 2019",
    "CC-BY-4.0", "../shared/data/groove-midi (magenta.tensorflow.org/datasets/groove)")


def onsets(path):
    """(beat position, class, velocity) of every drum hit in a tempo-aligned GMD file."""
    midi = mido.MidiFile(path)
    tpb = midi.ticks_per_beat
    out = []
    for track in midi.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0 and msg.note in config.NOTE_TO_CLASS:
                out.append((tick / tpb, config.NOTE_TO_CLASS[msg.note], msg.velocity))
    return out


def grid(hits, n_bars):
    """Quantise onsets to a [bars*16, 3*9] matrix."""
    steps = n_bars * config.STEPS_PER_BAR
    c = len(config.CLASSES)
    m = np.zeros((steps, 3 * c), np.float32)
    for beat, cls, vel in hits:
        pos = beat * 4.0                      # 16th steps
        step = int(np.floor(pos + 0.5))
        if not 0 <= step < steps:
            continue
        v = vel / 127.0
        if v > m[step, c + cls]:
            m[step, cls] = 1.0
            m[step, c + cls] = v
            m[step, 2 * c + cls] = pos - step
    return m


def windows(path):
    hits = onsets(path)
    if not hits:
        return []
    bars = int(max(h[0] for h in hits) // 4) + 1
    song = grid(hits, bars + 1)
    out = []
    for bar in range(0, bars - config.BARS + 1):
        w = song[bar * config.STEPS_PER_BAR:(bar + config.BARS) * config.STEPS_PER_BAR]
        if w[:, :len(config.CLASSES)].sum() >= 4:
            out.append(w)
    return out


def build():
    config.DATA.mkdir(parents=True, exist_ok=True)
    rows = list(csv.DictReader(open(config.GMD / "info.csv")))
    for split in ("train", "validation"):
        ws, sources = [], []
        for r in rows:
            if r["split"] != split or r["time_signature"] != "4-4":
                continue
            for w in windows(config.GMD / r["midi_filename"]):
                ws.append(w)
                sources.append(r["midi_filename"])
        x = np.stack(ws)
        np.savez_compressed(config.DATA / f"{split}.npz", x=x, source=np.array(sources))
        print(f"{split}: {len(x)} windows from {len(set(sources))} files", file=sys.stderr)


def load(split):
    path = config.DATA / f"{split}.npz"
    if not path.exists():
        build()
    return np.load(path)["x"]


if __name__ == "__main__":
    build()
