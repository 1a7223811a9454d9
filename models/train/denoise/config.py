"""Paths and settings shared by the denoiser's import, renders, fine-tuning and evaluation."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # models/train, for `common`

ROOT = Path(__file__).resolve().parents[3]
# Git-ignored: downloads, rendered data sets and checkpoints. Survives between sessions on the
# same machine; everything in it can be rebuilt from scratch by the scripts.
WORK = Path(os.environ.get("LATENTFORGE_WORK", ROOT / ".work"))
CKPT = WORK / "denoise-ckpt"
MODELS = Path(os.environ.get("LATENTFORGE_MODELS", ROOT / "models"))

# Cycles renders (Debian's Blender, cycles_scene.py): fine-tuning and the held-out evaluation.
CYCLES = WORK / "denoise-cycles"
CYCLES_RES = 160
CYCLES_SPP = (1, 2, 4, 8, 16, 32, 64)
CYCLES_REF_SPP = 1024
CYCLES_TRAIN = int(os.environ.get("LF_CYCLES_TRAIN", 40))
CYCLES_HELDOUT = int(os.environ.get("LF_CYCLES_HELDOUT", 8))
CYCLES_EVAL_SPP = (4, 16, 64)
HELDOUT_SEED_OFFSET = 1_000_000   # held-out scenes use disjoint seeds: never trained on
