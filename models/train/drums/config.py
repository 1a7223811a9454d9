"""Paths and settings shared by the drum one-shot model's data, training, export and evaluation."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # models/train, for `common`
from common import lanes  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
WORK = Path(os.environ.get("LATENTFORGE_WORK", ROOT / ".work"))
DEB_DIR = WORK / "debs"
KITS_DIR = WORK / "hydrogen" / "usr" / "share" / "hydrogen" / "data" / "drumkits"
DATA = WORK / "drums-data"
# Which kits the model trains on: "all" (every kit marked used below; the model is then GPL-2.0)
# or "permissive" (only the CC0 and CC-BY kits). LF_DRUM_KITS=permissive trains and measures
# the permissive variant in its own checkpoint folder; the held-out set is the same for both.
KIT_SET = os.environ.get("LF_DRUM_KITS", "all")
PERMISSIVE_LICENSES = ("CC0-1.0", "CC-BY-3.0")
CKPT = WORK / ("drums-ckpt" if KIT_SET == "all" else f"drums-ckpt-{KIT_SET}")
MODELS = Path(os.environ.get("LATENTFORGE_MODELS", ROOT / "models"))
DEB = "hydrogen-drumkits"
DEB_VERSION = "2017.09.19~dfsg-1"

SR = 48000
LENGTH = 48000                 # 1 s one-shots
LANES = lanes.NAMES            # src/groove/lanes.toml, shared with the engine
LATENT = 8
HELD_OUT = 0.2                 # fraction of each lane's samples kept for evaluation
# The longest time constant any envelope of a lane's voice may have, in seconds. A closed hat at
# 0.025 s is 40 dB down 0.12 s after its peak, kicks and snares at 0.125 s within 0.58 s (the
# decay rule of issue 11, which a test checks on generated kits); toms, open hats and cymbals
# ring longer, as the real ones do (median time to -40 dB in the data: 0.97 / 0.75 / 0.99 s).
MAX_DECAY_S = {"kick": 0.125, "snare": 0.125, "closed_hat": 0.025, "open_hat": 0.5,
               "low_tom": 0.35, "mid_tom": 0.35, "high_tom": 0.35, "crash": 1.0, "ride": 1.0}

# Every kit in the package, its license (debian/copyright and the kit's own drumkit.xml/README),
# and whether we train on it. The shipped model combines CC0, CC-BY-3.0 and GPL-2/GPL-2+ kits,
# so the model file is distributed under GPL-2.0 (see the card). CC-BY-SA kits are left out:
# share-alike 3.0 cannot be combined with GPL-2 in one derived work.
KITS = {
    "Audiophob": ("CC0-1.0", "soundcloud.com/audiophobdubstep", True),
    "rumpf_kit_z01_h2": ("CC-BY-3.0", "Emanuel Rumpf", True),
    "ElectricEmpireKit": ("GPL-2+", "Artemiy Pavlov (Artemio)", True),
    "HardElectro1": ("GPL-2+", "Artemiy Pavlov (Artemio)", True),
    "VariBreaks": ("GPL-2+", "Artemiy Pavlov (Artemio)", True),
    "Millo-Drums_v.1": ("GPL-2", "Emiliano Grilli (Emillo)", True),
    "Millo_MultiLayered2": ("GPL-2", "Emiliano Grilli (Emillo)", True),
    "Millo_MultiLayered3": ("GPL-2", "Emiliano Grilli (Emillo)", True),
    "The Black Pearl 1.0": ("GPL-2", "Glen MacArthur", True),
    "ForzeeStereo": ("GPL-2", "Vladimir Sadovnikov, Alexander Belokurov", True),
    "ColomboAcousticDrumkit": ("GPL-2+ with composition exception", "Marcos Guglielmetti", True),
    "BJA_Pacific": ("CC-BY-SA-3.0-US", "Luc Tunguay", False),
    "circAfrique v4": ("CC-BY-SA-3.0", "Jim Harney", False),
    "Gimme A Hand 1.0": ("GPL-2", "Glen MacArthur", False),       # hand percussion: no kit lanes
}
