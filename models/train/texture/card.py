"""Writes models/texture/CARD.md and its pictures from what was measured: training state, the
data listing (sources.json), eval.json (evaluate.py), per-class sample sheets, and a 4096x4096
sample made by `latentforge texture` (tiled synthesis) with its autocorrelation, which shows
whether a large output repeats a small tile.

    python card.py
"""
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from PIL import Image

import config
from evaluate import generate, seam_score

OUT = config.MODELS / config.NAME


def sheet(rows, cell=128, gap=4):
    """rows: list of lists of H x W x 3 images in 0..1 -> one uint8 sheet."""
    cols = max(len(r) for r in rows)
    img = np.full((len(rows) * (cell + gap) + gap, cols * (cell + gap) + gap, 3), 46, dtype=np.uint8)
    for i, row in enumerate(rows):
        for j, im in enumerate(row):
            small = Image.fromarray((im * 255).round().astype(np.uint8)).resize((cell, cell), Image.LANCZOS)
            y, x = gap + i * (cell + gap), gap + j * (cell + gap)
            img[y:y + cell, x:x + cell] = np.asarray(small)
    return img


def large_sample(material="rock", size=4096):
    """A 4096x4096 texture from the CLI (tiled synthesis), its seam score and autocorrelation."""
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["cargo", "run", "--quiet", "--release", "-p", "latentforge-cli", "--", "texture", "generate",
                        "--material", material, "--seed", "1", "--size", str(size), "--out-dir", d, "--quiet"],
                       cwd=config.ROOT, check=True)
        img = np.asarray(Image.open(Path(d) / f"{material}_s1.png").convert("RGB"), dtype=np.float64) / 255
    lum = img @ np.array([0.2126, 0.7152, 0.0722])
    f = np.fft.rfft2(lum - lum.mean())
    ac = np.fft.irfft2(np.abs(f) ** 2, s=lum.shape)
    ac = np.fft.fftshift(ac / ac[0, 0])
    c = size // 2
    yy, xx = np.mgrid[-c:size - c, -c:size - c]
    far = np.hypot(yy, xx) > 64
    peak = float(np.abs(ac[far]).max())
    view = ac[c - 256:c + 256, c - 256:c + 256]
    view = np.clip(0.5 + 0.5 * view / max(np.abs(view[256 + 8:, :]).max(), 1e-6), 0, 1)
    Image.fromarray((img * 255).round().astype(np.uint8)).resize((768, 768), Image.LANCZOS).save(
        OUT / f"sample_{material}_4096_preview.jpg", quality=85)
    Image.fromarray((img[:512, :512] * 255).round().astype(np.uint8)).save(
        OUT / f"sample_{material}_4096_crop.jpg", quality=85)
    Image.fromarray((view * 255).round().astype(np.uint8)).save(
        OUT / f"sample_{material}_4096_autocorrelation.png")
    return seam_score(img), peak


def main():
    ck = torch.load(config.CKPT / "last.pt", weights_only=False, map_location="cpu")
    ev = json.loads((config.CKPT / "eval.json").read_text())
    src = json.loads((config.DATA / "sources.json").read_text())
    session = ort.InferenceSession(str(OUT / f"{config.NAME}.onnx"), providers=["CPUExecutionProvider"])
    rows = [generate(session, c, range(10, 18), 256, 0.8, len(config.CLASSES), config.LATENT_CH, config.Z,
                     config.SCALE) for c in range(len(config.CLASSES))]
    Image.fromarray(sheet(rows)).save(OUT / "samples.jpg", quality=80)
    import dataset
    held, labels = dataset.load("heldout")
    train, tlabels = dataset.load("train")
    real_rows = [[t / 255 for t in train[tlabels == c][:6]] + [h / 255 for h in held[labels == c]]
                 for c in range(len(config.CLASSES))]
    Image.fromarray(sheet(real_rows)).save(OUT / "data.jpg", quality=80)
    seam_4096, peak = large_sample()

    st = ck["state"]
    within, above = [], []
    for n, m in ev["classes"].items():
        low, median, high = m["swd_real_band"]
        (within if m["swd_generated_vs_heldout"] <= high else above).append(
            f"{n} ({m['swd_generated_vs_heldout']:.0f} against {low:.0f}-{high:.0f})")
    table = "\n".join(
        f"| {name} | {sum(e['class'] == name for e in src['train'])} | {m['swd_generated_vs_heldout']:.1f} | "
        f"{m['swd_real_band'][0]:.1f} / {m['swd_real_band'][1]:.1f} / {m['swd_real_band'][2]:.1f} | "
        f"{m['swd_diversity']:.1f} | {m['seam_mean']:.3f} (max {m['seam_max']:.3f}) |"
        for name, m in ev["classes"].items())
    train_cfg = config.TRAINING["cuda"]
    held_list = ", ".join(f"`{e['name']}` ({e['class']})" for e in src["heldout"])
    text = f"""# texture: tileable material texture generator

Version 0.1.{st['step']}. Input: a spatial latent grid (16 channels, one cell per 16 pixels), two
style latents (coarse, fine), a material class ({", ".join(config.CLASSES)}), a truncation value and
a per-pixel noise map; output: an sRGB albedo texture. A StyleGAN-shaped network sized to train
in minutes on one GPU and run in seconds on a CPU: mapping network (4 layers) from latent + class
to a 64-d style; a 3x3 stem and four blocks of nearest x2 upsampling and two modulated 3x3 convolutions with weight demodulation and
per-pixel noise; circular padding in every convolution, so every output tiles exactly, and no
normalisation over the image, so `latentforge texture` makes large outputs in tiles that agree
with a whole-image run (4 latent cells of context per side). {sum(p.numel() for k, p in ck['model'].items() if k.startswith('g_ema.')) / 1e6:.2f} M
generator parameters.

## Data

Debian's `0ad-data` 0.0.26-1 terrain textures (CC-BY-SA-3.0, Wildfire Games; `public.zip`,
`art/textures/terrain/types/`) and the one CC0 material photograph of `supertuxkart-data`
1.4+dfsg-2 (`astro_turf.jpg`). A texture joins a class when its file name names exactly one class
(mixed names such as `grass_dirt_01` are left out, as are flat colours, test grids, water, lava,
wet and shore variants); each is stored at 256x256 with wrap-around resizing
(`models/train/texture/dataset.py`). Held out per class, never trained on: {held_list}.
The model was trained on CC-BY-SA-3.0 textures, so the model file is distributed under
CC-BY-SA-3.0 with attribution to Wildfire Games (0 A.D.) and SuperTuxKart (CC0 file).

![training data](data.jpg)

## Training

Non-saturating logistic GAN loss, lazy R1 (gamma 1, every 4 steps), style-mixing regularisation,
Adam (betas 0/0.99; learning rate 1e-3 for the synthesis layers, 1e-4 for the mapping network,
4e-4 for the critic) with cosine decay, batch {train_cfg['batch']} of {train_cfg['crop']}x{train_cfg['crop']} crops (random wrap-around offset,
flips, quarter turns), exponential moving average of the generator (exported). {st['step']} steps,
{st['seconds'] / 60:.1f} minutes on one NVIDIA H200 (`train.py --device cuda`; `cargo xtask train
texture` picks the GPU when PyTorch sees one), which it shared with two other candidate runs.

How this network was chosen: the earlier model (0.40 M generator parameters, channels 96-32)
trained 55 minutes, 8424 steps, on 2 CPU cores at batch 12, and 85 minutes did no better. On the GPU
three candidates trained side by side for 7 minutes each: that network at batch 64 of 128 px
crops (2974 steps), this one (channels 192-64, critic 64-256) at batch 64 of 128 px (1847 steps),
and this one at batch 128 of 64 px (2970 steps, shipped); the second also ran 3.8 minutes more,
alone (4778 steps). They were ranked by the SWD of 16 samples per class to 16 random **training**
textures of the class, summed over the classes, so the held-out textures played no part in the
choice: CPU model 1214; GPU candidates 1288 / 1706 / **1030** / 1358 (longer run).

## Measured (`models/train/texture/evaluate.py`)

{ev['samples_per_class']} samples per class at {ev['size']}x{ev['size']}, truncation {ev['truncation']}. SWD: multi-scale sliced
Wasserstein distance on Laplacian-pyramid 7x7 patches (x1e3, mean over 4 levels), lower is closer.
The real-vs-real band: the same distance from {ev['band_draws']} random sets of {ev['samples_per_class']} other real textures of the class
(training textures) to the held-out ones, as quartiles: a generator inside it is as close to the
held-out textures as other real textures of that class are. Diversity is generated set A against
generated set B (different seeds) of one class.

| class | train textures | SWD generated vs held-out | real-vs-real band (25th / 50th / 75th percentile) | diversity | seam score |
|---|---|---|---|---|---|
{table}

A 4096x4096 rock texture from `latentforge texture generate --size 4096` (tiled synthesis): seam score
{seam_4096:.3f}; the largest autocorrelation of its luminance farther than 64 pixels from the
origin is {peak:.3f} (a texture that repeats a small tile shows peaks near 1 at the tile's period).

![samples per class](samples.jpg)

Rows: {", ".join(config.CLASSES)}; 8 seeds each, truncation 0.8.

4096x4096 rock (downscaled, then a 512x512 crop at full resolution) and the central 512x512 of its
autocorrelation:

![4096 preview](sample_rock_4096_preview.jpg) ![crop](sample_rock_4096_crop.jpg)
![autocorrelation](sample_rock_4096_autocorrelation.png)

## Limits

Within the real-vs-real band on SWD (at or below its 75th percentile): {", ".join(within) or "none"};
above it: {", ".join(above) or "none"}.

The two held-out textures of a class are no floor on their own: the two held-out rocks are one
cliff in two gradings (`aegean_anatolia/cliff_02` and `cliff_03`), as close to each other as other
real rocks are to the pair (band above), not closer. By eye (samples above): grass, sand and snow
read as their material; rock, soil and paving share a gravelly grain with blotches and are
told apart mostly by colour; paving has no regular stone pattern and rock no cliff structure.
Diversity is lower than the earlier CPU model's. More GPU time is the next step: the candidates
above had 7 minutes each on a shared GPU (`TRAIN_MINUTES=N cargo xtask train texture` resumes from
the checkpoint in `.work/`).
"""
    (OUT / "CARD.md").write_text(text)
    print(f"wrote {OUT / 'CARD.md'}")


if __name__ == "__main__":
    main()
