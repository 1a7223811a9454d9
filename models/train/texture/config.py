"""Paths and settings shared by the texture generator's data, training, export and evaluation."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # models/train, for `common`

ROOT = Path(__file__).resolve().parents[3]
WORK = Path(os.environ.get("LATENTFORGE_WORK", ROOT / ".work"))
DEBS = WORK / "debs"
DATA = WORK / "texture-data"
CKPT = WORK / "texture-ckpt"
MODELS = Path(os.environ.get("LATENTFORGE_MODELS", ROOT / "models"))
NAME = "texture"

# Material classes, in the order of the model's one-hot `class` input.
CLASSES = ["grass", "rock", "sand", "soil", "snow", "paving"]
HELD_OUT = 2                    # textures per class kept for evaluation, never trained on
SOURCE_SIZE = 256               # every source texture is stored at this size
# Batch size and crop size per training device. The shipped model trained on a GPU (batch 128);
# 2 CPU cores manage about a step a second at batch 12.
TRAINING = {"cpu": {"batch": 12, "crop": 64}, "cuda": {"batch": 128, "crop": 64}}

Z = 64                          # global latent (style) size
W = 64                          # style vector size
LATENT_CH = 16                  # channels of the spatial latent
SCALE = 16                      # output pixels per spatial latent cell (4 upsamplings)
CHANNELS = [192, 192, 128, 96, 64]  # stem, then after each of the 4 upsamplings
COARSE_BLOCKS = 2               # blocks styled by the coarse style when mixing
D_CHANNELS = [64, 128, 256, 256]
MARGIN = 4                      # latent cells of context each side when synthesising in tiles
