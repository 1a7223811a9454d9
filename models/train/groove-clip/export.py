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
from common import manifest
from common.export import export_checked
from model import ClipVAE, WhitenedDecoder, WhitenedEncoder, fit_prior, groove_model

C = len(config.CLASSES)


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

    L, S, F = config.LATENT, config.STEPS, config.FEATURES
    table = {"groove": {"latent": L, "steps": S, "lanes": list(config.CLASSES), "macro_dims": macro_dims,
                        "velocity_spread": velocity_spread, "offset_spread": offset_spread}}
    decoder_outputs = [manifest.tensor("hit_prob", [-1, S, C], (0, 1)), manifest.tensor("velocity", [-1, S, C], (0, 1)),
                       manifest.tensor("offset", [-1, S, C], (-0.5, 0.5))]
    exports = (
        (config.ENCODER_NAME, encoder, torch.rand(2, S, F), {"pattern": x[:64]},
         "groove-encode", "Clip VAE encoder: 2-bar drum pattern -> whitened latent posterior (for --from)",
         [manifest.tensor("pattern", [-1, S, F], (-0.5, 1.0))],
         [manifest.tensor("mu", [-1, L], (-6, 6)), manifest.tensor("logvar", [-1, L], (-12, 4))]),
        (config.DECODER_NAME, decoder, torch.randn(2, L), {"z": torch.randn(64, L)},
         "groove-decode", "Clip VAE decoder: whitened latent -> 2-bar drum pattern (hits, velocity, micro-timing)",
         [manifest.tensor("z", [-1, L], (-6, 6))], decoder_outputs),
    )
    errors = []
    for name, module, dummy, feeds, task, desc, ins, outs in exports:
        path = config.MODELS / name / f"{name}.onnx"
        path.parent.mkdir(parents=True, exist_ok=True)
        names_in, names_out = [t["name"] for t in ins], [t["name"] for t in outs]
        axes = {n: {0: "batch"} for n in names_in + names_out}
        errors.append(export_checked(module, (dummy,), path, names_in, names_out, axes, feeds, tol=1e-4))
        size = manifest.write(path, generator="models/train/groove-clip/export.py", task=task, version=version,
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
                                                                          "activity": activity.tolist(), "kl": kl}))


if __name__ == "__main__":
    main()
