"""Paths and settings shared by the groove VAE's data, training, export and evaluation scripts."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
WORK = Path(os.environ.get("LATENTFORGE_WORK", ROOT / ".work"))
GMD = Path(os.environ.get("LF_GROOVE_MIDI", ROOT.parent / "shared" / "data" / "groove-midi"))
DATA = WORK / "groove-data"
CKPT = WORK / "groove-ckpt"
MODELS = ROOT / "models"

STEPS_PER_BAR = 16
BARS = 2
STEPS = STEPS_PER_BAR * BARS
# GrooVAE's 9 canonical classes and the General MIDI notes the plugin writes for them.
CLASSES = ["kick", "snare", "closed_hat", "open_hat", "low_tom", "mid_tom", "high_tom", "crash", "ride"]
GM_NOTES = [36, 38, 42, 46, 45, 48, 50, 49, 51]
# Roland TD-11 / GM note -> class, as Magenta's drums encoding maps them (9-class reduction).
PITCH_CLASSES = [
    [36, 35],
    [38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85],
    [42, 44, 54, 68, 69, 70, 71, 73, 78, 80, 22],
    [46, 67, 72, 74, 79, 81, 26],
    [45, 29, 41, 43, 61, 64, 84],
    [48, 47, 60, 63, 77, 86, 87],
    [50, 30, 62, 76, 83],
    [49, 52, 55, 57, 58],
    [51, 53, 59, 82],
]
NOTE_TO_CLASS = {p: c for c, ps in enumerate(PITCH_CLASSES) for p in ps}
FEATURES = 3 * len(CLASSES)    # hit, velocity, offset per class

LATENT = 32
HIDDEN = 128
MACROS = 8
