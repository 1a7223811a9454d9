"""Writes a groove VAE's encoder and decoder as single-file ONNX (opset 17, dynamic batch) with
their model.toml, checked against PyTorch: one tensor signature and one `[groove]` table for the
groove VAE (export.py) and the clip VAE (../groove-clip/export.py), which the engine reads alike
(src/groove/model.rs)."""
import torch

import config
import dataset
from common import manifest
from common.export import export_checked
from common.half import store_weights_half

C = len(config.CLASSES)


def export_pair(encoder, decoder, x, *, paths, descriptions, generator, version, macro_dims, spreads):
    """`paths` and `descriptions`: (encoder, decoder); `x`: training windows, some of which check
    the encoder; `spreads`: per-lane velocity and offset spreads. Returns the largest ONNX
    Runtime vs PyTorch differences of the encoder and the decoder."""
    L, S, F = config.LATENT, config.STEPS, config.FEATURES
    velocity_spread, offset_spread = spreads
    table = {"groove": {"latent": L, "steps": S, "lanes": list(config.CLASSES), "macro_dims": macro_dims,
                        "velocity_spread": velocity_spread, "offset_spread": offset_spread}}
    decoder_outputs = [manifest.tensor("hit_prob", [-1, S, C], (0, 1)), manifest.tensor("velocity", [-1, S, C], (0, 1)),
                       manifest.tensor("offset", [-1, S, C], (-0.5, 0.5))]
    exports = (
        (paths[0], encoder, torch.rand(2, S, F), {"pattern": x[:64]}, "groove-encode", descriptions[0],
         [manifest.tensor("pattern", [-1, S, F], (-0.5, 1.0))],
         [manifest.tensor("mu", [-1, L], (-6, 6)), manifest.tensor("logvar", [-1, L], (-12, 4))]),
        (paths[1], decoder, torch.randn(2, L), {"z": torch.randn(64, L)}, "groove-decode", descriptions[1],
         [manifest.tensor("z", [-1, L], (-6, 6))], decoder_outputs),
    )
    errors = []
    for path, module, dummy, feeds, task, desc, ins, outs in exports:
        path.parent.mkdir(parents=True, exist_ok=True)
        names_in, names_out = [t["name"] for t in ins], [t["name"] for t in outs]
        axes = {n: {0: "batch"} for n in names_in + names_out}
        errors.append(export_checked(module, (dummy,), path, names_in, names_out, axes, feeds, tol=1e-4))
        # Measured lossless enough by half_check.py (hit decisions, velocities, latents).
        store_weights_half(path)
        size = manifest.write(path, generator=generator, task=task, version=version, description=desc,
                              transfer="none", inputs=ins, outputs=outs, table=table,
                              training=[dataset.TRAINING_DATA])
        print(f"{path.stem}: {size / 1e6:.2f} MB")
    return errors
