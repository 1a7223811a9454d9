"""Imports Intel Open Image Denoise's trained RT networks (Apache-2.0) from the pinned pyoidn wheel
into the project's model folder: HDR and LDR, colour / colour+albedo / colour+albedo+normal, each
in OIDN's default size (our `--quality high` and `balanced`) and its `small` size (`--quality fast`).

    python import_oidn.py           # -> models/denoise-{hdr,ldr}[-alb[-nrm]][-small]/
Each network is checked against pyoidn on the committed fixture frame before it is kept.
"""
import json
import time

import numpy as np
import torch

import blender_exr
import config
import transfer
from config import AUX_SETS, OIDN_VERSION, SIZES, model_name, oidn_name
from export import export_network
from model import UNet
from oidn_weights import load_all, training_data

MIN_PSNR_DB = 45.0
FIXTURE = config.ROOT / "tests" / "fixtures" / "noisy_8spp.exr"
NOTICE = [
    f"Weights: Intel Open Image Denoise {OIDN_VERSION} (Copyright 2018 Intel Corporation), Apache License 2.0",
    "(models/LICENSES/Apache-2.0.txt), read unchanged from the pyoidn wheel; converted to ONNX by this project.",
]


def psnr_tonemapped(a, b):
    tm = lambda v: (np.maximum(v, 0) / (1 + np.maximum(v, 0))) ** (1 / 2.2)
    return float(10 * np.log10(1 / max(np.mean((tm(a) - tm(b)) ** 2), 1e-20)))


def check_against_pyoidn(net, hdr, aux, quality):
    """PSNR between our network (PyTorch) and pyoidn on the fixture frame, same mode."""
    import pyoidn
    color, albedo, normal = blender_exr.read(FIXTURE)
    color = color if hdr else np.clip(color, 0, 1)
    albedo = albedo if aux else None
    normal = normal if len(aux) == 2 else None
    scale = transfer.autoexposure(color) if hdr else 1.0
    with torch.no_grad():
        out = net(torch.from_numpy(transfer.network_input(color, albedo, normal, hdr, scale)))
    ours = transfer.inverse(out[0].numpy().transpose(1, 2, 0), hdr, scale)
    theirs = pyoidn.denoise(color, albedo, normal, hdr=hdr, quality=quality)
    return psnr_tonemapped(ours, theirs)


IMPORT_RECORD = config.CKPT / "import.json"


def main():
    start = time.time()
    weights = load_all()
    record = {}
    for hdr in (True, False):
        for aux_suffix, aux in AUX_SETS.items():
            for size_suffix, (_, quality) in SIZES.items():
                source = oidn_name(hdr, aux_suffix, size_suffix)
                net = UNet.from_oidn(weights[source]).eval()
                db = check_against_pyoidn(net, hdr, aux, quality)
                if db < MIN_PSNR_DB:
                    raise SystemExit(f"{source}: {db:.1f} dB against pyoidn, below {MIN_PSNR_DB}: not exported")
                size = "small" if size_suffix else "default"
                passes = " + ".join(["colour", *aux])
                name = model_name(hdr, aux_suffix, size_suffix)
                record[name] = {"source": source, "pyoidn_psnr_db": db, "quality": quality, "size": size,
                                "hdr": hdr, "aux": aux, "parameters": sum(p.numel() for p in net.parameters())}
                export_network(
                    net, name, hdr=hdr, aux=aux, version=f"{OIDN_VERSION}-oidn",
                    description=f"Intel OIDN {OIDN_VERSION} RT denoiser `{source}` ({'HDR' if hdr else 'LDR'}, "
                                f"{passes}, {size} size), imported unchanged",
                    training=training_data(source), extra_notes=[*NOTICE, f"Matches pyoidn at {db:.0f} dB PSNR "
                                                                 "on tests/fixtures/noisy_8spp.exr."])
    IMPORT_RECORD.parent.mkdir(parents=True, exist_ok=True)
    IMPORT_RECORD.write_text(json.dumps({"seconds": time.time() - start, "models": record}, indent=1))


if __name__ == "__main__":
    main()
