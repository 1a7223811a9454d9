"""Exports the drum decoder (latent + lane -> 1 s of 48 kHz audio) to single-file ONNX (opset 17,
dynamic batch), checks ONNX Runtime against PyTorch and writes model.toml. The prior the engine's
z ~ N(0, I) is mapped into is chosen here, on the training one-shots (prior.json for the card)."""
import json

import numpy as np
import torch

import config
import dataset
import evaluate
import loudness
from common import manifest
from common.export import export_checked
from model import DrumVAE, LanePriorDecoder, fit_lane_prior

NAME = "drums"
# Prior samples per training one-shot when choosing the prior.
CHOOSE_PER_TRAIN = 4


def choose_prior(model):
    """The VAE's own N(0, I), each lane's mean with unit covariance, or each lane's fitted
    Gaussian (model.fit_lane_prior): whichever gives samples closest to the training one-shots
    (Fréchet distance of evaluate.py's features). Which one fits depends on how far a run's
    posteriors drifted from N(0, I); the held-out one-shots play no part in the choice."""
    audio, lanes = dataset.load("train")
    means, chols = fit_lane_prior(model, audio, lanes)
    unit = torch.eye(config.LATENT).repeat(len(config.LANES), 1, 1)
    candidates = {"standard normal": (torch.zeros_like(means), unit),
                  "lane means, unit covariance": (means, unit),
                  "lane Gaussians": (means, chols)}
    real = evaluate.features(audio)
    gen_lanes = np.repeat(lanes, CHOOSE_PER_TRAIN)
    eye = torch.eye(len(config.LANES))
    distances = {}
    for name, (m, c) in candidates.items():
        dec = LanePriorDecoder(model.decoder, m, c)
        rng = np.random.default_rng(0)
        with torch.no_grad():
            gen = np.concatenate([dec(torch.from_numpy(rng.standard_normal((len(l), config.LATENT)).astype(np.float32)),
                                      eye[l]).numpy() for l in np.array_split(gen_lanes, len(gen_lanes) // 32)])
        distances[name] = round(evaluate.frechet(evaluate.features(evaluate.normalised(gen)), real), 1)
    chosen = min(distances, key=distances.get)
    (config.CKPT / "prior.json").write_text(json.dumps(dict(chosen=chosen, fd_to_train=distances), indent=1))
    print(f"prior: {chosen} (Fréchet distance to the training one-shots: {distances})")
    return LanePriorDecoder(model.decoder, *candidates[chosen])


def main():
    ck = torch.load(config.CKPT / "last.pt", weights_only=False)
    model = DrumVAE()
    model.load_state_dict(ck["model"], strict=False)
    model.eval()
    # The engine draws z ~ N(0, I); the exported graph maps it into the chosen prior.
    dec = choose_prior(model)
    path = config.MODELS / NAME / f"{NAME}.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    lanes = len(config.LANES)
    dummy = (torch.randn(2, config.LATENT), torch.eye(lanes)[:2])
    feeds = {"z": torch.randn(lanes, config.LATENT), "lane": torch.eye(lanes)}
    axes = {n: {0: "batch"} for n in ("z", "lane", "audio")}
    err = export_checked(dec, dummy, path, ["z", "lane"], ["audio"], axes, feeds, tol=1e-3)
    levels = loudness.lane_levels_db()
    kits = [(k, lic, who) for k, (lic, who, use) in config.KITS.items()
            if use and (config.KIT_SET == "all" or lic in config.PERMISSIVE_LICENSES)]
    size = manifest.write(
        path, generator="models/train/drums/export.py", task="drum-one-shot", version=f"0.1.{ck['state']['step']}",
        description="Drum one-shot generator: latent + lane -> 1 s of 48 kHz audio (a drum-voice synthesiser: decaying noise bands + gliding sines; z ~ N(0, I) is mapped into the prior export.py chose)",
        transfer="none",
        inputs=[manifest.tensor("z", [-1, config.LATENT], (-4, 4)),
                manifest.tensor("lane", [-1, lanes], (0, 1), channels=config.LANES)],
        outputs=[manifest.tensor("audio", [-1, config.LENGTH], (-1, 1))],
        table={"drums": {"latent": config.LATENT, "sample_rate": config.SR, "length": config.LENGTH,
                         "lanes": list(config.LANES),
                         # Each lane's loudness in the real kits (loudness.py); the engine balances kits by it.
                         "loudness_db": [levels[lane] for lane in config.LANES],
                         "loudness_window_s": loudness.WINDOW_S}},
        training=[manifest.training_data(f"Hydrogen drum kit {kit} ({who})", lic,
                                         f"Debian package {config.DEB} {config.DEB_VERSION}") for kit, lic, who in kits])
    print(f"{NAME}: {size / 1e6:.2f} MB, ORT vs torch max diff {err:.1e}")


if __name__ == "__main__":
    main()
