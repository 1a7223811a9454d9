"""Exports the groove VAE's decoder (to models/) and encoder (to the checkpoint folder, for
evaluate.py: `--from` encodes clips with the clip VAE, ../groove-clip) to single-file ONNX
(opset 17, dynamic batch), checks ONNX Runtime against PyTorch, picks the macro dimensions and
writes both model.toml files.

The 8 macro knobs move the latent dimensions the encoder uses most: those whose posterior means
vary most over the training windows (the "active units" of a VAE).
"""
import json

import numpy as np
import torch

import config
import dataset
from common import manifest
from common.export import export_checked
from model import GrooveVAE, spreads

C = len(config.CLASSES)
ENCODER = "groove-encoder"


def main():
    # The weights that scored best on the validation split (train.py), else the last ones.
    best = config.CKPT / "best.pt"
    ck = torch.load(best if best.exists() else config.CKPT / "last.pt", weights_only=False)
    model = GrooveVAE()
    # strict=False: checkpoints before 0.2 carry a hit_bias buffer the decoder no longer has.
    model.load_state_dict(ck["model"], strict=False)
    model.eval()
    train = dataset.load("train")
    velocity_spread, offset_spread = spreads(model, train)
    version = f"0.2.{ck['state'].get('best_step', ck['state']['step'])}"
    x = torch.from_numpy(train)
    with torch.no_grad():
        mu, _ = model.encoder(x)
    activity = mu.var(0).numpy()
    macro_dims = [int(i) for i in np.argsort(-activity)[:config.MACROS]]

    L, S, F = config.LATENT, config.STEPS, config.FEATURES
    table = {"groove": {"latent": L, "steps": S, "lanes": list(config.CLASSES), "macro_dims": macro_dims,
                        "velocity_spread": velocity_spread, "offset_spread": offset_spread}}
    decoder_outputs = [manifest.tensor("hit_prob", [-1, S, C], (0, 1)), manifest.tensor("velocity", [-1, S, C], (0, 1)),
                       manifest.tensor("offset", [-1, S, C], (-0.5, 0.5))]
    exports = (
        (ENCODER, model.encoder, torch.rand(2, S, F), {"pattern": x[:64]},
         "groove-encode", "Groove VAE encoder: 2-bar drum pattern -> latent posterior",
         [manifest.tensor("pattern", [-1, S, F], (-0.5, 1.0))],
         [manifest.tensor("mu", [-1, L], (-6, 6)), manifest.tensor("logvar", [-1, L], (-12, 4))]),
        ("groove-decoder", model.decoder, torch.randn(2, L), {"z": torch.randn(64, L)},
         "groove-decode", "Groove VAE decoder: latent -> 2-bar drum pattern (hits, velocity, micro-timing)",
         [manifest.tensor("z", [-1, L], (-6, 6))], decoder_outputs),
    )
    errors = []
    for name, module, dummy, feeds, task, desc, ins, outs in exports:
        # The encoder measures this VAE (evaluate.py) but does not ship: `--from` uses the clip VAE.
        path = (config.CKPT if name == ENCODER else config.MODELS) / name / f"{name}.onnx"
        path.parent.mkdir(parents=True, exist_ok=True)
        names_in, names_out = [t["name"] for t in ins], [t["name"] for t in outs]
        axes = {n: {0: "batch"} for n in names_in + names_out}
        errors.append(export_checked(module, (dummy,), path, names_in, names_out, axes, feeds, tol=1e-4))
        size = manifest.write(path, generator="models/train/groove/export.py", task=task, version=version,
                              description=desc, transfer="none", inputs=ins, outputs=outs, table=table,
                              training=[dataset.TRAINING_DATA])
        print(f"{name}: {size / 1e6:.2f} MB")
    e1, e2 = errors
    print(f"spread per lane: velocity {velocity_spread}, offset {offset_spread}")
    print(f"ORT vs torch max diff: encoder {e1:.1e}, decoder {e2:.1e}; macro dims {macro_dims} "
          f"(posterior-mean variance {[round(float(activity[i]), 3) for i in macro_dims]})")
    (config.CKPT / "exported.json").write_text(json.dumps(ck["state"] | {"macro_dims": macro_dims,
                                                                          "velocity_spread": velocity_spread,
                                                                          "offset_spread": offset_spread,
                                                                          "activity": activity.tolist()}))


if __name__ == "__main__":
    main()
