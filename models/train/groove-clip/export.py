"""Exports the clip VAE's encoder and decoder to single-file ONNX (opset 17, dynamic batch),
checks ONNX Runtime against PyTorch and writes both model.toml files.

Both are exported around the whitened latent (model.fit_prior on the training split): the
decoder takes e ~ N(0, I), the encoder gives e. Its dimensions are the aggregate posterior's
principal axes, largest first, so the 8 macro knobs move dimensions 0-7: the directions along
which the training grooves differ most.
"""
import json

import torch

import config
import dataset
from model import ClipVAE, WhitenedDecoder, WhitenedEncoder, fit_prior, groove_model

vae_export = config.groove_module("vae_export")


def main():
    # The weights that scored best on the validation split (train.py), else the last ones.
    best = config.CKPT / "best.pt"
    ck = torch.load(best if best.exists() else config.CKPT / "last.pt", weights_only=False)
    model = ClipVAE()
    model.load_state_dict(ck["model"])
    model.eval()
    train = dataset.load("train")
    velocity_spread, offset_spread = groove_model.spreads(model, train)
    version = f"0.1.{ck['state'].get('best_step', ck['state']['step'])}"
    x = torch.from_numpy(train)
    mean, basis = fit_prior(model.encoder, x)
    with torch.no_grad():
        raw_mu, raw_logvar = model.encoder(x)
    # What a clip's latent carries: the KL of its posterior from N(0, I), in nats.
    kl = float((0.5 * (raw_mu ** 2 + raw_logvar.exp() - 1 - raw_logvar)).sum(-1).mean())
    encoder, decoder = WhitenedEncoder(model.encoder, mean, basis), WhitenedDecoder(model.decoder, mean, basis)
    with torch.no_grad():
        mu, _ = encoder(x)
    # Per whitened dimension, the share of its unit variance that is the grooves' own spread
    # (the rest is posterior noise): the macro dimensions should be well above the others'.
    activity = mu.var(0).numpy()
    macro_dims = list(range(config.MACROS))

    e1, e2 = vae_export.export_pair(
        encoder, decoder, x,
        paths=tuple(config.MODELS / name / f"{name}.onnx" for name in (config.ENCODER_NAME, config.DECODER_NAME)),
        descriptions=("Clip VAE encoder: 2-bar drum pattern -> whitened latent posterior (for --from)",
                      "Clip VAE decoder: whitened latent -> 2-bar drum pattern (hits, velocity, micro-timing)"),
        generator="models/train/groove-clip/export.py", version=version, macro_dims=macro_dims,
        spreads=(velocity_spread, offset_spread))
    print(f"spread per lane: velocity {velocity_spread}, offset {offset_spread}")
    print(f"ORT vs torch max diff: encoder {e1:.1e}, decoder {e2:.1e}; macro dims {macro_dims} "
          f"(posterior-mean variance {[round(float(activity[i]), 3) for i in macro_dims]})")
    (config.CKPT / "exported.json").write_text(json.dumps(ck["state"] | {"macro_dims": macro_dims,
                                                                          "velocity_spread": velocity_spread,
                                                                          "offset_spread": offset_spread,
                                                                          "activity": activity.tolist(), "kl": kl}))


if __name__ == "__main__":
    main()
