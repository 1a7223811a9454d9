"""Paths and settings shared by the denoiser's data, training, export and evaluation scripts."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # models/train, for `common`

ROOT = Path(__file__).resolve().parents[3]
# Git-ignored: downloads, rendered data sets and checkpoints. Survives between sessions on the
# same machine; everything in it can be rebuilt from scratch by the scripts.
WORK = Path(os.environ.get("LATENTFORGE_WORK", ROOT / ".work"))
DATA = WORK / "denoise-data"
CKPT = WORK / "denoise-ckpt"
MODELS = Path(os.environ.get("LATENTFORGE_MODELS", ROOT / "models"))

# Rendering
TRAIN_SCENES = int(os.environ.get("LF_TRAIN_SCENES", 128))   # the shipped models used 128 (one skipped)
VAL_SCENES = int(os.environ.get("LF_VAL_SCENES", 16))
VAL_SEED_OFFSET = 1_000_000       # validation scenes use disjoint seeds: never trained on
RES = 128
NOISY_SPP = (1, 2, 4, 8, 16, 32, 64)
REF_SPP = 1024
REF_PASS_SPP = 128                # big wavefronts are slow in LLVM mode; accumulate passes

# Model variants: name -> input channel groups
VARIANTS = {
    "denoise-color": ("color",),
    "denoise-color-aux": ("color", "albedo", "normal"),
}
