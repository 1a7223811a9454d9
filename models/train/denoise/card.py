"""Writes CARD.md for every denoiser in models/: what it is, where its weights come from (Intel
OIDN, Apache-2.0), how it was checked against pyoidn, and what it measures on the held-out Cycles
scenes (.work/denoise-ckpt/import.json and cycles-eval.json, written by import_oidn.py and
evaluate.py).

    python card.py
"""
import json

import torch
from PIL import Image

import config
import train
from config import OIDN_VERSION
from export import FINETUNED, finetune_wins
from import_oidn import IMPORT_RECORD
from oidn_weights import PYOIDN_VERSION, WHEEL_SHA256
from temporal_eval import SECTION

EVAL = config.CKPT / "cycles-eval.json"
SAMPLES = config.CKPT / "cycles-samples.png"
QUALITY_NOTE = {
    "default": "`--quality high` (and `balanced`: OIDN's balanced mode differs from high only by "
               "reduced-precision arithmetic on GPUs; ours computes in float32 everywhere)",
    "small": "`--quality fast` (OIDN maps its fast quality to these small networks)",
}


def licence(source, ours="OIDN's training data is Intel's; this project did not train this network.",
            storage="float16 weights as shipped, computed in float32"):
    return f"""## Licence and attribution

The weights are Intel Open Image Denoise {OIDN_VERSION}'s `{source}`, Copyright 2018 Intel
Corporation, distributed under the Apache License 2.0 (copy:
[`models/LICENSES/Apache-2.0.txt`](../LICENSES/Apache-2.0.txt)). They are read unchanged from the ELF symbol
`oidn::blobs::weights::{source}` of `libOpenImageDenoise_core.so` in the pyoidn {PYOIDN_VERSION} wheel
(sha256 `{WHEEL_SHA256}`) and converted to ONNX by `models/train/denoise/import_oidn.py`
({storage}). {ours}
"""


def table(summary, columns):
    """Mean PSNR / SSIM per sample count for the given (label, method) columns."""
    head = "| spp | " + " | ".join(label for label, _ in columns) + " |"
    rule = "|---|" + "---|" * len(columns)
    rows = [f"| {spp} | " + " | ".join(f"{summary[spp][m][0]:.2f} dB / {summary[spp][m][1]:.4f}" for _, m in columns)
            + " |" for spp in summary]
    return "\n".join([head, rule, *rows])


def heldout_section(ev, name, record):
    passes = " + ".join(["colour", *record["aux"]])
    columns = [("noisy", "noisy")]
    if name == FINETUNED:
        columns += [("imported (`denoise-hdr-alb-nrm`)", "denoise-hdr-alb-nrm"), ("fine-tuned", "finetuned")]
    else:
        columns.append((f"`{name}`", name))
    if name == "denoise-hdr-alb-nrm" and "finetuned" in ev["methods"]:
        columns.append(("fine-tuned on Cycles", "finetuned"))
    columns += [("pyoidn high (colour + albedo + normal)", "pyoidn_high"),
                ("pyoidn fast", "pyoidn_fast")]
    return f"""## Measured on held-out Cycles renders

{ev['scenes']} scenes rendered with Debian's Blender 3.4 (Cycles, CPU; `models/train/denoise/cycles_scene.py`:
primitives and Suzanne, diffuse / glossy / metal / glass / textured materials, volumes, hair,
sky or dark worlds with small bright lights, depth of field, motion blur; Blackman-Harris filter,
no adaptive sampling) at {config.CYCLES_RES}x{config.CYCLES_RES}, references at {config.CYCLES_REF_SPP} spp; seeds
disjoint from the fine-tuning scenes. PSNR / SSIM on display values (Reinhard x/(1+x), then sRGB),
as `latentforge denoise --reference` prints them; mean over scenes. This network is fed {passes}.

{table({int(k): v for k, v in ev['summary'].items()}, columns)}
"""


def write_card(name, record, ev, import_seconds):
    folder = config.MODELS / name
    size = record["size"]
    rng = "HDR (linear radiance; auto-exposure, PU transfer function)" if record["hdr"] else \
        "LDR (display-referred 0..1; sRGB transfer function)"
    text = f"""# {name}: Intel Open Image Denoise RT network, {'HDR' if record['hdr'] else 'LDR'}, {' + '.join(['colour', *record['aux']])}

OIDN's `{record['source']}` network ({size} size, {record['parameters'] / 1e6:.2f} M parameters), imported
unchanged: a U-Net with four 2x2 max poolings, nearest upsampling, skip concatenations and 3x3
convolutions with ReLU (`models/train/denoise/model.py`). Input: {rng}. Used by
`latentforge denoise` for {QUALITY_NOTE[size]}.

{licence(record['source'])}
## Equivalence with OIDN

The same frame (`tests/fixtures/noisy_8spp.exr`, a Cycles render at 8 spp with its Denoising
passes) through this ONNX network and through pyoidn {PYOIDN_VERSION} (quality `{record['quality']}`,
same passes, {'HDR' if record['hdr'] else 'LDR'}): {record['pyoidn_psnr_db']:.0f} dB PSNR apart at import; `cargo xtask test`
checks ≥ 45 dB through the CLI (`cli/tests/oidn.rs`). Not trained here: 0 steps; the import of
all twelve networks took {import_seconds:.0f} s.
"""
    if record["hdr"] and ev and name in ev["methods"]:
        text += "\n" + heldout_section(ev, name, record)
        if name == "denoise-hdr-alb-nrm":
            text += finetune_note(ev)
    card = folder / "CARD.md"
    # The temporal mode's section is temporal_eval.py's: kept as it wrote it.
    if card.exists() and SECTION in card.read_text():
        text = text.rstrip() + "\n\n" + SECTION + card.read_text().split(SECTION, 1)[1]
    card.write_text(text)


def finetune_note(ev):
    s = {int(k): v for k, v in ev["summary"].items()}
    if "finetuned" not in ev["methods"]:
        return "\nNo Cycles fine-tune has been run yet (`cargo xtask train denoise`).\n"
    gains = ", ".join(f"{s[spp]['finetuned'][0] - s[spp]['denoise-hdr-alb-nrm'][0]:+.2f} dB / "
                      f"{s[spp]['finetuned'][1] - s[spp]['denoise-hdr-alb-nrm'][1]:+.4f} SSIM at {spp} spp" for spp in s)
    if finetune_wins(s, 0) and finetune_wins(s, 1):
        verdict = (f"It beats this network on PSNR and SSIM at every sample count ({gains}); it ships as an "
                   f"option (`latentforge denoise --model {FINETUNED}`).")
    elif finetune_wins(s, 0):
        verdict = (f"Against this network (and pyoidn high, which gives the same pixels): {gains}. It is ahead on "
                   "PSNR at every sample count but not on SSIM everywhere, so it ships as an option "
                   f"(`latentforge denoise --model {FINETUNED}`) and this network stays the default. Why not "
                   "further ahead: a short fine-tune (minutes on 2 CPU cores, 40 small scenes, a low learning rate "
                   "to stay close to OIDN) adapts the network only a little; at 64 spp, where OIDN is already near "
                   "the reference, the gains are smallest and single scenes can lose.")
    else:
        verdict = f"It is not ahead of this network at every sample count ({gains}), so it is not shipped."
    per_scene = "; ".join(
        f"{spp} spp {min(d):+.2f} to {max(d):+.2f} dB" for spp in s
        for d in [[r["finetuned"][0] - r["denoise-hdr-alb-nrm"][0] for r in ev["rows"] if r["spp"] == spp]])
    verdict += f" Per held-out scene the PSNR change ranges: {per_scene}."
    state = torch.load(train.CKPT, weights_only=False)["state"]
    steps = f"{state['step']} steps, {state['seconds'] / 60:.0f} minutes on 2 CPU cores"
    return f"""
### Fine-tuning on Cycles

`models/train/denoise/train.py` fine-tuned this network from OIDN's weights on {config.CYCLES_TRAIN}
other Cycles scenes (the same generator, 1-64 spp inputs, {config.CYCLES_REF_SPP} spp references): OIDN's loss
(0.16 L1 + 0.84 MS-SSIM in the PU-transferred space), Adam at 2e-5 with cosine decay, batches of
6 crops of 128x128, {steps}. {verdict}

![noisy / imported / fine-tuned / pyoidn high / reference, 16 spp](cycles_samples_16spp.jpg)
"""


def write_finetuned_card(ev):
    """The card of the shipped Cycles fine-tune (only written when export.py shipped it)."""
    state = torch.load(train.CKPT, weights_only=False)["state"]
    record = {"aux": ["albedo", "normal"]}
    text = f"""# {FINETUNED}: OIDN's HDR colour + albedo + normal network, fine-tuned on Cycles renders

An option for HDR frames with albedo and normal (`latentforge denoise --model {FINETUNED}`); the
default stays OIDN's network as imported (why: below). Same U-Net as `denoise-hdr-alb-nrm`,
weights fine-tuned from OIDN's `rt_hdr_alb_nrm` by `models/train/denoise/train.py`:
{state['step']} steps, {state['seconds'] / 60:.0f} minutes on 2 CPU cores, on {config.CYCLES_TRAIN} Cycles scenes.

{licence("rt_hdr_alb_nrm", "OIDN's training data is Intel's; this project fine-tuned the network on its own renders.",
         "the fine-tuned weights are stored in float32")}
{heldout_section(ev, FINETUNED, record)}
{finetune_note(ev)}"""
    (config.MODELS / FINETUNED / "CARD.md").write_text(text)


def main():
    imported = json.loads(IMPORT_RECORD.read_text())
    ev = json.loads(EVAL.read_text()) if EVAL.exists() else None
    for name, record in imported["models"].items():
        write_card(name, record, ev, imported["seconds"])
    if ev and (config.MODELS / FINETUNED).is_dir():
        write_finetuned_card(ev)
    if ev and SAMPLES.exists():
        for name in ("denoise-hdr-alb-nrm", FINETUNED):
            if (config.MODELS / name).is_dir():
                # JPEG: the strip is a photograph of renders, and the tree has a size budget.
                Image.open(SAMPLES).convert("RGB").save(config.MODELS / name / "cycles_samples_16spp.jpg", quality=90)
    print(f"cards written for {len(imported['models'])} networks")


if __name__ == "__main__":
    main()
