"""What storing the groove models' weights as float16 changes, measured where it matters: the
hit decisions (probability over 0.5) of 2000 latents from the prior and the velocities and
micro-timing of their hits, for both decoders; the clip encoder's latent means on 500 random
clips, in posterior standard deviations.

    python half_check.py FLOAT32_MODELS_DIR FLOAT16_MODELS_DIR
"""
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

DECODERS = (("groove-decoder", 32), ("groove-clip-decoder", 64))
ENCODER = "groove-clip-encoder"


def session(root, name):
    return ort.InferenceSession(str(Path(root) / name / f"{name}.onnx"), providers=["CPUExecutionProvider"])


def main(full, half):
    rng = np.random.default_rng(1)
    for name, latent in DECODERS:
        a, b = session(full, name), session(half, name)
        z = rng.standard_normal((2000, latent)).astype(np.float32)
        (pa, va, oa), (pb, vb, ob) = a.run(None, {"z": z}), b.run(None, {"z": z})
        hits = pa > 0.5
        flips = int(((pa > 0.5) != (pb > 0.5)).sum())
        print(f"{name}: {flips} of {int(hits.sum())} hit decisions flip ({100 * flips / hits.sum():.3f} %); "
              f"largest change on hits: velocity {np.abs(va - vb)[hits].max():.4f}, "
              f"offset {np.abs(oa - ob)[hits].max():.4f} steps")
    a, b = session(full, ENCODER), session(half, ENCODER)
    x = np.zeros((500, 32, 27), np.float32)
    hits = rng.random((500, 32, 9)) < 0.15
    x[:, :, :9] = hits
    x[:, :, 9:18] = hits * rng.uniform(0.2, 1, (500, 32, 9))
    x[:, :, 18:] = hits * rng.uniform(-0.4, 0.4, (500, 32, 9))
    (mu_a, logvar), (mu_b, _) = a.run(None, {"pattern": x}), b.run(None, {"pattern": x})
    shift = np.abs(mu_a - mu_b) / np.exp(0.5 * logvar)
    print(f"{ENCODER}: latent means move {shift.mean():.4f} posterior sd on average, {shift.max():.4f} at most")


if __name__ == "__main__":
    main(*sys.argv[1:3])
