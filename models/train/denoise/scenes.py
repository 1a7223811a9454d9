"""Randomised Mitsuba 3 scenes: varied geometry, materials, lights and 0 A.D. terrain albedo.

Every scene is a pure function of its seed, so a render interrupted half-way is redone identically.
"""
import math

import mitsuba as mi
import numpy as np

CONDUCTORS = ["Au", "Ag", "Al", "Cu", "Cr", "W", "Ir", "Rh", "none"]


def _color(rng, lo=0.05, hi=0.9):
    return [float(c) for c in rng.uniform(lo, hi, 3)]


def _sky_bitmap(rng):
    """Equirectangular sky: horizon-to-zenith gradient plus an optional bright sun disk."""
    h, w = 64, 128
    theta = (np.arange(h) + 0.5) / h * math.pi            # 0 at zenith
    phi = (np.arange(w) + 0.5) / w * 2 * math.pi
    zenith, horizon = np.array(_color(rng, 0.05, 1.0)), np.array(_color(rng, 0.2, 1.0))
    t = np.clip(theta / (math.pi / 2), 0, 1)[:, None, None]
    sky = (1 - t) * zenith + t * horizon
    sky = np.where(theta[:, None, None] > math.pi / 2, horizon * 0.3, sky) * np.ones((1, w, 1))
    if rng.random() < 0.6:
        st, sp = rng.uniform(0.1, 1.3), rng.uniform(0, 2 * math.pi)
        d = np.arccos(np.clip(
            np.cos(theta)[:, None] * math.cos(st)
            + np.sin(theta)[:, None] * math.sin(st) * np.cos(phi[None, :] - sp), -1, 1))
        sky = sky + (d < 0.06)[..., None] * rng.uniform(200, 2000) * np.array(_color(rng, 0.8, 1.0))
    return mi.Bitmap(sky.astype(np.float32) * rng.uniform(0.2, 2.0))


def _material(rng, textures):
    r = rng.random()
    if r < 0.25:
        return {"type": "diffuse", "reflectance": {"type": "rgb", "value": _color(rng)}}
    if r < 0.45:
        return {"type": "diffuse", "reflectance": {
            "type": "bitmap", "filename": str(textures[rng.integers(len(textures))]),
            "to_uv": mi.ScalarTransform4f().scale([float(rng.uniform(0.5, 4))] * 3)}}
    if r < 0.60:
        return {"type": "roughconductor", "material": CONDUCTORS[rng.integers(len(CONDUCTORS))],
                "alpha": float(rng.uniform(0.05, 0.5))}
    if r < 0.67:
        return {"type": "conductor", "material": CONDUCTORS[rng.integers(len(CONDUCTORS))]}
    if r < 0.77:
        return {"type": "dielectric", "int_ior": float(rng.uniform(1.3, 1.8))}
    if r < 0.82:
        return {"type": "roughdielectric", "alpha": float(rng.uniform(0.05, 0.4))}
    return {"type": "roughplastic" if rng.random() < 0.5 else "plastic",
            "diffuse_reflectance": {"type": "rgb", "value": _color(rng)}}


def _object(rng, textures, i):
    kind = ["sphere", "cube", "cylinder", "rectangle"][rng.integers(4)]
    s = float(rng.uniform(0.25, 0.9))
    x, z = rng.uniform(-2.2, 2.2, 2)
    t = (mi.ScalarTransform4f().translate([float(x), s if kind != "rectangle" else s * 1.5, float(z)])
         .rotate([0, 1, 0], float(rng.uniform(0, 360)))
         .rotate([1, 0, 0], float(rng.uniform(-30, 30)) if kind != "sphere" else 0.0)
         .scale([s, s * (1.5 if kind == "rectangle" else 1.0), s]))
    obj = {"type": kind, "to_world": t}
    if rng.random() < 0.06:
        obj["emitter"] = {"type": "area", "radiance": {"type": "rgb", "value": [
            float(c) for c in np.array(_color(rng, 0.5, 1.0)) * rng.uniform(2, 20)]}}
        obj["bsdf"] = {"type": "diffuse"}
    else:
        obj["bsdf"] = _material(rng, textures)
        if kind == "rectangle":
            obj["bsdf"] = {"type": "twosided", "bsdf": obj["bsdf"]} if obj["bsdf"]["type"] in (
                "diffuse", "roughconductor", "conductor", "plastic", "roughplastic") else obj["bsdf"]
    return obj


def _lights(rng):
    lights = {}
    kinds = rng.choice(["area", "point", "sun", "env"], size=rng.integers(1, 4), replace=False)
    for k in kinds:
        if k == "area":
            h = float(rng.uniform(2.5, 5))
            lights["area_light"] = {
                "type": "rectangle",
                "to_world": mi.ScalarTransform4f().look_at(
                    origin=[float(v) for v in rng.uniform(-3, 3, 3) * [1, 0, 1] + [0, h, 0]],
                    target=[0, 0, 0], up=[0, 1, 0]).scale([float(rng.uniform(0.3, 1.5))] * 3),
                "emitter": {"type": "area", "radiance": {"type": "rgb", "value": [
                    float(c) for c in np.array(_color(rng, 0.6, 1.0)) * rng.uniform(3, 30)]}},
            }
        elif k == "point":
            lights["point_light"] = {
                "type": "point", "position": [float(v) for v in rng.uniform([-3, 1, -3], [3, 4, 3])],
                "intensity": {"type": "rgb", "value": [
                    float(c) for c in np.array(_color(rng, 0.6, 1.0)) * rng.uniform(5, 60)]}}
        elif k == "sun":
            lights["sun_light"] = {
                "type": "directional",
                "direction": [float(rng.uniform(-1, 1)), -float(rng.uniform(0.3, 1)), float(rng.uniform(-1, 1))],
                "irradiance": {"type": "rgb", "value": [
                    float(c) for c in np.array(_color(rng, 0.7, 1.0)) * rng.uniform(1, 6)]}}
        else:
            lights["env_light"] = {"type": "envmap", "bitmap": _sky_bitmap(rng)}
    if "env_light" not in lights and rng.random() < 0.5:
        lights["env_light"] = {"type": "constant", "radiance": {"type": "rgb", "value": _color(rng, 0.01, 0.3)}}
    return lights


def scene_dict(seed: int, textures: list, res: int) -> dict:
    rng = np.random.default_rng(seed)
    elev, azim, r = math.radians(rng.uniform(8, 55)), rng.uniform(0, 2 * math.pi), rng.uniform(3.5, 7.5)
    origin = [r * math.cos(elev) * math.cos(azim), r * math.sin(elev), r * math.cos(elev) * math.sin(azim)]
    d = {
        "type": "scene",
        "sensor": {
            "type": "perspective", "fov": float(rng.uniform(30, 60)),
            "to_world": mi.ScalarTransform4f().look_at(
                origin=origin, target=[float(v) for v in rng.uniform([-0.5, 0, -0.5], [0.5, 0.6, 0.5])],
                up=[0, 1, 0]),
            # Box filter: every sample lands in one pixel, so noise is pixel-independent as in
            # Cycles (filter importance sampling) and as denoisers such as OIDN expect.
            "film": {"type": "hdrfilm", "width": res, "height": res, "pixel_format": "rgb",
                     "rfilter": {"type": "box"}},
            "sampler": {"type": "independent"},
        },
        "ground": {
            "type": "rectangle",
            "to_world": mi.ScalarTransform4f().rotate([1, 0, 0], -90).scale([20, 20, 1]),
            "bsdf": {"type": "diffuse", "reflectance": {
                "type": "bitmap", "filename": str(textures[rng.integers(len(textures))]),
                "to_uv": mi.ScalarTransform4f().scale([float(rng.uniform(4, 30))] * 3)}},
        },
    }
    for i in range(int(rng.integers(2, 8))):
        d[f"object_{i}"] = _object(rng, textures, i)
    d.update(_lights(rng))
    d["_max_depth"] = int(rng.integers(5, 12))
    return d
