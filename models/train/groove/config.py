"""Paths and settings shared by the groove VAE's data, training, export and evaluation scripts."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # models/train, for `common`
from common import lanes  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
WORK = Path(os.environ.get("LATENTFORGE_WORK", ROOT / ".work"))
GMD = Path(os.environ.get("LF_GROOVE_MIDI", ROOT.parent / "shared" / "data" / "groove-midi"))
DATA = WORK / "groove-data"
CKPT = WORK / "groove-ckpt"
MODELS = Path(os.environ.get("LATENTFORGE_MODELS", ROOT / "models"))

STEPS_PER_BAR = 16
BARS = 2
STEPS = STEPS_PER_BAR * BARS
# GrooVAE's 9 canonical classes, the General MIDI notes the plugin writes for them, and the
# Roland TD-11 / GM note -> class map (src/groove/lanes.toml, shared with the engine).
CLASSES = lanes.NAMES
GM_NOTES = lanes.GM_NOTES
NOTE_TO_CLASS = lanes.NOTE_TO_LANE
FEATURES = 3 * len(CLASSES)    # hit, velocity, offset per class

LATENT = 32
HIDDEN = 128
MACROS = 8
