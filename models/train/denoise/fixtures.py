"""Renders the small frames the project commits with Debian's Blender (Cycles), from scenes whose
seeds are outside the training and held-out sets: the test fixtures (tests/fixtures/: a 128x96
frame at 8 spp with its Denoising passes, and its 1024 spp reference; sequence/: 4 frames of
64x48 at 4 spp with the Vector pass, for temporal mode) and the demo samples (models/samples/:
320x180 at 4 and 16 spp). Noisy frames are stored as Blender users send them:
one-part multilayer EXR, half float, ZIP.

    python fixtures.py
"""
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import OpenEXR

import blender_exr
import config

HERE = Path(__file__).resolve().parent
FIXTURE_SEED = 2_000_000
SEQUENCE_SEED = 2_000_010
SEQUENCE_FRAMES = 4


def render(seed, size, spps, ref_spp, out):
    subprocess.run(["blender", "-b", "--factory-startup", "--python", str(HERE / "cycles_scene.py"), "--",
                    str(seed), str(out), size, ",".join(map(str, spps)), str(ref_spp)],
                   check=True, capture_output=True)


def render_sequence(out):
    subprocess.run(["blender", "-b", "--factory-startup", "--python", str(HERE / "cycles_sequence.py"), "--",
                    str(SEQUENCE_SEED), str(out), "64x48", str(SEQUENCE_FRAMES), "4", "0"],
                   check=True, capture_output=True)


def sequence_fixture(tmp):
    """tests/fixtures/sequence/shot_0001.exr …, rendered in `tmp`."""
    render_sequence(tmp / "sequence")
    sequence = config.ROOT / "tests" / "fixtures" / "sequence"
    sequence.mkdir(exist_ok=True)
    for frame in sorted((tmp / "sequence" / "noisy_4").glob("shot_*.exr")):
        write_half(frame, sequence / frame.name)


def write_half(src, dst):
    """Every channel of `src` (Blender's float32 output) as half float, ZIP, atomically."""
    with OpenEXR.File(str(src)) as f:
        channels = {name: c.pixels.astype(np.float16) for name, c in f.parts[0].channels.items()}
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    tmp = dst.with_name(f".{dst.name}.tmp.exr")
    with OpenEXR.File(header, channels) as f:
        f.write(str(tmp))
    tmp.replace(dst)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        render(FIXTURE_SEED, "128x96", [8], 1024, tmp / "fixture")
        fixtures = config.ROOT / "tests" / "fixtures"
        blender_exr.write(fixtures / "noisy_8spp.exr", *blender_exr.read(tmp / "fixture" / "noisy_8.exr"))
        blender_exr.write(fixtures / "reference_1024spp.exr", blender_exr.read(tmp / "fixture" / "ref.exr")[0],
                          half=False)
        for k, (seed, spp) in enumerate([(FIXTURE_SEED + 1, 4), (FIXTURE_SEED + 2, 16)]):
            render(seed, "320x180", [spp], 16, tmp / f"s{k}")
            blender_exr.write(config.ROOT / "models" / "samples" / f"sample_{k + 1:02d}_{spp}spp.exr",
                              *blender_exr.read(tmp / f"s{k}" / f"noisy_{spp}.exr"))
        sequence_fixture(tmp)
    print("fixtures and samples written")


if __name__ == "__main__":
    main()
