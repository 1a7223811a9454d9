"""The clip VAE's settings: the groove VAE's data and lanes (../groove/config.py, whose names this
module re-exports, so ../groove/dataset.py and evaluate.py work on it unchanged), with its own
latent size, checkpoint folder and model names."""
import importlib.util
import sys
from pathlib import Path

_GROOVE = Path(__file__).resolve().parents[1] / "groove"
_spec = importlib.util.spec_from_file_location("groove_config", _GROOVE / "config.py")
_groove = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_groove)
globals().update({k: v for k, v in vars(_groove).items() if not k.startswith("__")})
sys.path.append(str(_GROOVE))          # dataset.py and evaluate.py, which `import config` (this one)

LATENT = 64
CKPT = WORK / "groove-clip-ckpt"       # noqa: F821 (from the groove config)
ENCODER_NAME = "groove-clip-encoder"
DECODER_NAME = "groove-clip-decoder"


def groove_module(name):
    """../groove/NAME.py, imported as groove_NAME: this folder has scripts of the same names."""
    spec = importlib.util.spec_from_file_location(f"groove_{name}", _GROOVE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
