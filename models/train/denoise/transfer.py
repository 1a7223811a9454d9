"""Input preparation shared by training, export checks and evaluation. It mirrors the engine's
`denoise` module exactly (src/denoise.rs): auto-exposure, log1p transfer, aux clamping."""
import numpy as np


def autoexposure(rgb: np.ndarray) -> float:
    """Geometric mean luminance of 16x16 blocks maps to 0.18 (OIDN's auto-exposure)."""
    h, w, _ = rgb.shape
    lum = rgb[..., 0] * 0.2126 + rgb[..., 1] * 0.7152 + rgb[..., 2] * 0.0722
    logs = []
    for by in range(0, h, 16):
        for bx in range(0, w, 16):
            m = float(lum[by:by + 16, bx:bx + 16].astype(np.float64).mean())
            if m > 1e-8:
                logs.append(np.log2(m))
    return 1.0 if not logs else float(0.18 / 2.0 ** np.mean(logs))


def forward(rgb, exposure):
    return np.log1p(np.maximum(rgb, 0) * exposure)


def inverse(t, exposure):
    return np.maximum(np.expm1(t), 0) / exposure


def network_input(color, albedo, normal, exposure, with_aux: bool) -> np.ndarray:
    """HxWx3 arrays -> 1xCxHxW float32."""
    planes = [forward(color.astype(np.float32), exposure)]
    if with_aux:
        planes += [np.clip(albedo, 0, 1), np.clip(normal, -1, 1)]
    return np.concatenate(planes, -1).transpose(2, 0, 1)[None].astype(np.float32)
