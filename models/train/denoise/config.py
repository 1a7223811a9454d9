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

# Animated Cycles sequences with the Vector pass (cycles_sequence.py): tuning and evaluating the
# temporal mode. Tuning sequences choose its settings; held-out ones are only measured.
SEQUENCES = WORK / "denoise-sequences"
SEQ_RES = "192x108"
SEQ_FRAMES = 10
SEQ_SPP = (4, 16)
SEQ_REF_SPP = 1024
SEQ_TUNE = int(os.environ.get("LF_SEQ_TUNE", 2))
SEQ_HELDOUT = int(os.environ.get("LF_SEQ_HELDOUT", 3))
SEQ_TUNE_SEED = 2_000_000
SEQ_HELDOUT_SEED = 3_000_000
# Static-camera shots over high-contrast textures (cycles_sequence.py's `static` kind).
SEQ_STATIC_TUNE = int(os.environ.get("LF_SEQ_STATIC_TUNE", 2))
SEQ_STATIC_HELDOUT = int(os.environ.get("LF_SEQ_STATIC_HELDOUT", 3))
SEQ_STATIC_TUNE_SEED = 2_100_000
SEQ_STATIC_HELDOUT_SEED = 3_100_000


# The imported networks' names: ours (models/denoise-...) and OIDN's (rt_...), per pass set and size.
OIDN_VERSION = "2.5.1"
AUX_SETS = {"": [], "-alb": ["albedo"], "-alb-nrm": ["albedo", "normal"]}
SIZES = {"": ("", "high"), "-small": ("_small", "fast")}     # our suffix -> (OIDN suffix, pyoidn quality)


def oidn_name(hdr, aux_suffix, size_suffix):
    return f"rt_{'hdr' if hdr else 'ldr'}{aux_suffix.replace('-', '_')}{SIZES[size_suffix][0]}"


def model_name(hdr, aux_suffix, size_suffix):
    return f"denoise-{'hdr' if hdr else 'ldr'}{aux_suffix}{size_suffix}"
