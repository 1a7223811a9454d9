"""What OIDN's RT filter does around its network, mirrored by the engine (src/denoise/prepare.rs):
auto-exposure for HDR (mean log2 luminance of ~16x16 bins -> 0.18), the transfer function (PU for
HDR, normalised so that 65504 maps to 1; sRGB for LDR), albedo clamped to [0, 1], normals clamped
to [-1, 1] and mapped to [0, 1]; and the way back."""
import numpy as np

HDR_MAX = 65504.0
# Fit of the PU2 curve normalised at 100 cd/m^2 (Aydin et al. 2008), as OIDN uses it.
PU_A, PU_B, PU_C, PU_D = 1.41283765e+03, 1.64593172e+00, 4.31384981e-01, -2.94139609e-03
PU_E, PU_F, PU_G = 1.92653254e-01, 6.26026094e-03, 9.98620152e-01
PU_Y0, PU_Y1, PU_X0, PU_X1 = 1.57945760e-06, 3.22087631e-02, 2.23151711e-03, 3.70974749e-01


def luminance(rgb):
    return 0.212671 * rgb[..., 0] + 0.715160 * rgb[..., 1] + 0.072169 * rgb[..., 2]


def autoexposure(rgb):
    """OIDN's: ceil(H/16) x ceil(W/16) bins with integer-divided bounds, mean luminance per bin,
    geometric mean over bins above 1e-8 maps to 0.18."""
    h, w, _ = rgb.shape
    lum = luminance(np.clip(np.nan_to_num(rgb.astype(np.float32)), 0, None))
    bh, bw = -(-h // 16), -(-w // 16)
    logs = []
    for i in range(bh):
        for j in range(bw):
            m = float(lum[i * h // bh:(i + 1) * h // bh, j * w // bw:(j + 1) * w // bw].mean())
            if m > 1e-8:
                logs.append(np.log2(m))
    return 1.0 if not logs else float(0.18 / 2.0 ** np.mean(logs))


def pu_forward(y):
    y = np.asarray(y, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y <= PU_Y0, PU_A * y,
                        np.where(y <= PU_Y1, PU_B * np.power(y, PU_C) + PU_D, PU_E * np.log(y + PU_F) + PU_G))


def pu_inverse(x):
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(x <= PU_X0, x / PU_A,
                        np.where(x <= PU_X1, np.power(np.maximum(x - PU_D, 0) / PU_B, 1 / PU_C),
                                 np.exp((x - PU_G) / PU_E) - PU_F))


PU_NORM = 1.0 / float(pu_forward(HDR_MAX))


def srgb_forward(y):
    y = np.asarray(y, np.float64)
    return np.where(y <= 0.0031308, 12.92 * y, 1.055 * np.power(np.maximum(y, 0), 1 / 2.4) - 0.055)


def srgb_inverse(x):
    x = np.asarray(x, np.float64)
    return np.where(x <= 0.04045, x / 12.92, np.power((np.maximum(x, 0) + 0.055) / 1.055, 2.4))


def forward(linear, hdr, scale):
    """Linear colour -> what the network sees."""
    v = np.clip(np.nan_to_num(linear * scale), 0, HDR_MAX if hdr else 1.0)
    return (pu_forward(v) * PU_NORM if hdr else srgb_forward(v)).astype(np.float32)


def inverse(t, hdr, scale):
    """Network output -> linear colour."""
    t = np.maximum(t, 0)
    v = pu_inverse(t / PU_NORM) if hdr else srgb_inverse(np.minimum(t, 1))
    return (np.maximum(v, 0) / scale).astype(np.float32)


def network_input(color, albedo, normal, hdr, scale):
    """HxWx3 linear arrays (albedo/normal may be None) -> 1xCxHxW float32."""
    planes = [forward(color, hdr, scale)]
    if albedo is not None:
        planes.append(np.clip(np.nan_to_num(albedo), 0, 1))
    if normal is not None:
        planes.append(np.clip(np.nan_to_num(normal), -1, 1) * 0.5 + 0.5)
    return np.concatenate(planes, -1).transpose(2, 0, 1)[None].astype(np.float32)
