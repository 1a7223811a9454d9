"""Paths and settings shared by the upscaler's data, training, export and evaluation."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # models/train, for `common`

ROOT = Path(__file__).resolve().parents[3]
WORK = Path(os.environ.get("LATENTFORGE_WORK", ROOT / ".work"))
DEBS = WORK / "debs"
UNPACKED = WORK / "unpacked"
DATA = WORK / "upscale-data"
CKPT = WORK / "upscale-ckpt"
EVAL = WORK / "upscale-eval"
MODELS = Path(os.environ.get("LATENTFORGE_MODELS", ROOT / "models"))
NAME = "upscale"

# The model is published under GPL-2.0-or-later, so it trains on GPL-2+ files (nexuiz, most of
# ufoai, FlightGear's terrain) and on files under licences any GPL work may include. CC-BY-SA-3.0
# and CC-BY-3.0 files are left out: they cannot be combined with GPL-2 in one work.
TRAINABLE = {"GPL-2+", "CC0-1.0", "public-domain", "Zlib", "Expat"}
MODEL_LICENSE = "GPL-2.0-or-later"

MIN_SIZE = 256                  # both sides at least this (a 4x held-out input is then 64 px)
MAX_SIZE = 1024                 # larger sources are stored centre-cropped to this, never resampled
HELD_OUT_PERCENT = 8            # of the textures, chosen by a hash of the name

SCALE = 4                       # the network's factor; 2x is its 4x output reduced by 2
CHANNELS = 48
BLOCKS = 8                      # residual blocks at the input's resolution
RES_SCALE = 0.2                 # ESRGAN's residual scaling: each block starts near identity
MARGIN = 24                     # input pixels of context a tile needs (receptive field 20)
CROP = 40                       # training input crops (160 px targets)
BATCH = {"cpu": 12, "cuda": 64}
LOSS_BORDER = 4                 # input pixels at a crop's edge left out of the loss (padding)
# The critic joins for the last part of the run, with a small weight beside L1 (ESRGAN's
# pattern: a PSNR-trained generator first, then adversarial fine-tuning).
GAN_FROM = 0.7
GAN_WEIGHT = 3e-3
# The shipped weights: this share of the L1-only generator plus the rest of the critic-trained
# one (ESRGAN's network interpolation). blend.py on 40 training textures: the critic-trained
# generator alone is 0.14 dB below Lanczos at 4x; 0.85 is the largest critic share whose PSNR
# stays within 0.01 dB of the L1-only generator's (and SWD within 1 %).
L1_BLEND = 0.85
