"""Renders the small frames the project commits: test fixtures (tests/fixtures/) and demo samples
(models/samples/), written as Blender writes them: one-part multilayer EXR, half float, ZIP,
channels `ViewLayer.Combined.{R,G,B,A}`, `ViewLayer.Denoising Albedo.{R,G,B}`,
`ViewLayer.Denoising Normal.{X,Y,Z}`. Scenes use seeds outside the training and validation sets.
"""
import mitsuba as mi
import numpy as np
import OpenEXR

import config
import render  # noqa: F401  (sets the Mitsuba variant)
from scenes import scene_dict

FIXTURE_SEED = 2_000_000


def blender_exr(path, color, albedo=None, normal=None, half=True):
    dt = np.float16 if half else np.float32
    ch = {f"ViewLayer.Combined.{c}": color[..., i].astype(dt) for i, c in enumerate("RGB")}
    ch["ViewLayer.Combined.A"] = np.ones(color.shape[:2], dt)
    if albedo is not None:
        ch.update({f"ViewLayer.Denoising Albedo.{c}": albedo[..., i].astype(dt) for i, c in enumerate("RGB")})
    if normal is not None:
        ch.update({f"ViewLayer.Denoising Normal.{c}": normal[..., i].astype(dt) for i, c in enumerate("XYZ")})
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.exr")
    with OpenEXR.File(header, ch) as f:
        f.write(str(tmp))
    tmp.rename(path)


def render_frame(seed, width, height, spp, ref_spp=None):
    textures = sorted((config.WORK / "textures").glob("*.png"))
    d = scene_dict(seed, textures, width)
    d["sensor"]["film"]["height"] = height
    path = {"type": "path", "max_depth": d.pop("_max_depth")}
    d["integrator"] = {"type": "aov", "aovs": "albedo:albedo,nn:sh_normal", "integrator": path}
    img = np.array(mi.render(mi.load_dict(d), spp=spp, seed=seed), dtype=np.float32)
    ref = None
    if ref_spp:
        d["integrator"] = path
        scene = mi.load_dict(d)
        passes = ref_spp // config.REF_PASS_SPP
        ref = sum(np.array(mi.render(scene, spp=config.REF_PASS_SPP, seed=7 + k), dtype=np.float64)
                  for k in range(passes)) / passes
    return img, ref


def main():
    fixtures = config.ROOT / "tests" / "fixtures"
    img, ref = render_frame(FIXTURE_SEED, 128, 96, 8, ref_spp=1024)
    blender_exr(fixtures / "noisy_8spp.exr", img[..., :3], img[..., 3:6], img[..., 6:9])
    blender_exr(fixtures / "reference_1024spp.exr", ref.astype(np.float32), half=False)
    samples = config.ROOT / "models" / "samples"
    for k, (seed, spp) in enumerate([(FIXTURE_SEED + 1, 4), (FIXTURE_SEED + 2, 16)]):
        img, _ = render_frame(seed, 320, 180, spp)
        blender_exr(samples / f"sample_{k + 1:02d}_{spp}spp.exr", img[..., :3], img[..., 3:6], img[..., 6:9])
    print("fixtures and samples written")


if __name__ == "__main__":
    main()
