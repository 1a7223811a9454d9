"""Reads and writes frames in the layout Blender writes: one-part multilayer EXR, layers
`ViewLayer.Combined` (RGBA) and the "Denoising Data" passes `ViewLayer.Denoising Albedo` (RGB)
and `ViewLayer.Denoising Normal` (X, Y, Z)."""
import numpy as np
import OpenEXR

LAYER = "ViewLayer"


def _rgb(channels, name, parts):
    if name in channels:                                     # grouped: H x W x (3|4)
        return channels[name].pixels[..., :3].astype(np.float32)
    if all(f"{name}.{p}" in channels for p in parts):
        return np.stack([channels[f"{name}.{p}"].pixels for p in parts], -1).astype(np.float32)
    return None


def read(path):
    """(color, albedo or None, normal or None), each H x W x 3 float32."""
    with OpenEXR.File(str(path)) as f:
        ch = f.parts[0].channels
        color = _rgb(ch, f"{LAYER}.Combined", "RGB")
        if color is None:
            raise ValueError(f"{path}: no {LAYER}.Combined layer")
        return color, _rgb(ch, f"{LAYER}.Denoising Albedo", "RGB"), _rgb(ch, f"{LAYER}.Denoising Normal", "XYZ")


def write(path, color, albedo=None, normal=None, half=True):
    """Writes atomically (temporary file, then rename)."""
    dt = np.float16 if half else np.float32
    ch = {f"{LAYER}.Combined.{c}": color[..., i].astype(dt) for i, c in enumerate("RGB")}
    ch[f"{LAYER}.Combined.A"] = np.ones(color.shape[:2], dt)
    if albedo is not None:
        ch.update({f"{LAYER}.Denoising Albedo.{c}": albedo[..., i].astype(dt) for i, c in enumerate("RGB")})
    if normal is not None:
        ch.update({f"{LAYER}.Denoising Normal.{c}": normal[..., i].astype(dt) for i, c in enumerate("XYZ")})
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.exr")
    with OpenEXR.File(header, ch) as f:
        f.write(str(tmp))
    tmp.replace(path)
