"""The drum lanes of Latent Groove, read from the engine's `src/groove/lanes.toml`: the one table
both the Rust engine (checked by a unit test there) and the training code use."""
import tomllib
from pathlib import Path

LANES_FILE = Path(__file__).resolve().parents[3] / "src" / "groove" / "lanes.toml"

with LANES_FILE.open("rb") as f:
    _LANES = tomllib.load(f)["lane"]

NAMES = [lane["name"] for lane in _LANES]
# The General MIDI drum note (channel 10) written for each lane.
GM_NOTES = [lane["gm_note"] for lane in _LANES]
# Every GM / Roland note a clip may use for each lane, and the reverse map.
NOTES = [lane["notes"] for lane in _LANES]
NOTE_TO_LANE = {note: i for i, notes in enumerate(NOTES) for note in notes}
