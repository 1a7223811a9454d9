"""Paths and settings shared by the material network's data, training, export and evaluation."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # models/train, for `common`

ROOT = Path(__file__).resolve().parents[3]
WORK = Path(os.environ.get("LATENTFORGE_WORK", ROOT / ".work"))
DEBS = WORK / "debs"
UNPACKED = WORK / "unpacked"
DATA = WORK / "material-data"
CKPT = WORK / "material-ckpt"
MODELS = Path(os.environ.get("LATENTFORGE_MODELS", ROOT / "models"))
NAME = "material"

# Licences a model published under CC-BY-SA-3.0 may be trained on. GPL files (all of nexuiz and
# most of ufoai) cannot be combined with CC-BY-SA-3.0 in one work: they are used for evaluation
# only, which distributes nothing derived from them.
TRAINABLE = {"CC-BY-3.0", "CC-BY-SA-3.0", "CC-BY-SA-3.0+", "CC0-1.0", "public-domain", "Zlib", "Expat"}
MODEL_LICENSE = "CC-BY-SA-3.0"

MAX_SIZE = 512                  # sources larger than this are stored downscaled to it
MIN_SIZE = 128
HELD_OUT_PERCENT = 8            # of the trainable materials, chosen by a hash of the name

CROP = 96
BATCH = {"cpu": 10, "cuda": 64}
CHANNELS = [24, 40, 64]         # full, half and quarter resolution
DILATIONS = [1, 2, 4, 8, 1]     # residual blocks at quarter resolution
MULTIPLE = 4                    # the network's input sides must be multiples of this
MARGIN = 112                    # pixels of context a tile needs on each side (receptive field 105)
# The network's normals are gentler than the artists' (under uncertainty it predicts the mean
# slope, about a third of theirs): the engine multiplies their slopes by this, the largest gain
# that keeps the mean angular error on training materials within 1 degree of its minimum
# (evaluate.py measures the whole curve; the card shows it).
NORMAL_GAIN = 2.0
