"""Renders the small frames the project commits with Debian's Blender (Cycles), from scenes whose
seeds are outside the training and held-out sets: the test fixtures (tests/fixtures/: a 128x96
frame at 8 spp with its Denoising passes, and its 1024 spp reference) and the demo samples
(models/samples/: 320x180 at 4 and 16 spp). Noisy frames are stored as Blender users send them:
one-part multilayer EXR, half float, ZIP.

    python fixtures.py
"""
import subprocess
import tempfile
from pathlib import Path

import blender_exr
import config

HERE = Path(__file__).resolve().parent
FIXTURE_SEED = 2_000_000


def render(seed, size, spps, ref_spp, out):
    subprocess.run(["blender", "-b", "--factory-startup", "--python", str(HERE / "cycles_scene.py"), "--",
                    str(seed), str(out), size, ",".join(map(str, spps)), str(ref_spp)],
                   check=True, capture_output=True)


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
    print("fixtures and samples written")


if __name__ == "__main__":
    main()
