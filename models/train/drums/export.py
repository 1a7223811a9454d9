"""Exports the drum decoder (latent + lane -> 1 s of 48 kHz audio) to single-file ONNX (opset 17,
dynamic batch), checks ONNX Runtime against PyTorch and writes model.toml."""
import torch

import config
import loudness
from common import manifest
from common.export import export_checked
from model import DrumVAE

NAME = "drums"


def main():
    ck = torch.load(config.CKPT / "last.pt", weights_only=False)
    model = DrumVAE()
    model.load_state_dict(ck["model"], strict=False)
    model.eval()
    dec = model.decoder
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
        description="Drum one-shot generator: latent + lane -> 1 s of 48 kHz audio (a drum-voice synthesiser: decaying noise bands + gliding sines)",
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
