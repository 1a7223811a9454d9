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
from model import GrooveVAE, spreads
from vae_export import export_pair

ENCODER, DECODER = "groove-encoder", "groove-decoder"


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

    e1, e2 = export_pair(
        model.encoder, model.decoder, x,
        # The encoder measures this VAE (evaluate.py) but does not ship: `--from` uses the clip VAE.
        paths=(config.CKPT / ENCODER / f"{ENCODER}.onnx", config.MODELS / DECODER / f"{DECODER}.onnx"),
        descriptions=("Groove VAE encoder: 2-bar drum pattern -> latent posterior",
                      "Groove VAE decoder: latent -> 2-bar drum pattern (hits, velocity, micro-timing)"),
        generator="models/train/groove/export.py", version=version, macro_dims=macro_dims,
        spreads=(velocity_spread, offset_spread))
    print(f"spread per lane: velocity {velocity_spread}, offset {offset_spread}")
    print(f"ORT vs torch max diff: encoder {e1:.1e}, decoder {e2:.1e}; macro dims {macro_dims} "
          f"(posterior-mean variance {[round(float(activity[i]), 3) for i in macro_dims]})")
    (config.CKPT / "exported.json").write_text(json.dumps(ck["state"] | {"macro_dims": macro_dims,
                                                                          "velocity_spread": velocity_spread,
                                                                          "offset_spread": offset_spread,
                                                                          "activity": activity.tolist()}))


if __name__ == "__main__":
    main()
