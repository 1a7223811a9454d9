"""Writes models/drums/CARD.md from the checkpoint's training record and evaluate.py's numbers."""
import json

import torch

import config


def main():
    ck = torch.load(config.CKPT / "last.pt", weights_only=False)
    ev = json.loads((config.CKPT / "eval.json").read_text())
    index = json.loads((config.DATA / "index.json").read_text())
    counts = {lane: (sum(i["lane"] == lane for i in index["train"]), sum(i["lane"] == lane for i in index["heldout"]))
              for lane in config.LANES}
    kits = "\n".join(f"| {k} | {who} | {lic} | {'yes' if use else 'no: ' + ('share-alike 3.0 cannot be combined with the GPL-2 kits' if 'SA' in lic else 'hand percussion, no kit lanes')} |"
                     for k, (lic, who, use) in config.KITS.items())
    lanes = "\n".join(f"| {lane} | {counts[lane][0]} | {counts[lane][1]} | {ev['per_lane'][lane]['generated']} | {ev['per_lane'][lane]['floor']} |"
                      for lane in config.LANES)
    card = f"""# drums

Drum one-shot generator for the Latent Groove plugin and `latentforge groove`: a latent (8) and a
lane (kick, snare, closed hat, open hat, low/mid/high tom, crash, ride) give 1 s of mono audio at
48 kHz. Version 0.1.{ck['state']['step']}.

## License of this model file
**GPL-2.0.** The weights are derived from the GPL-2 / GPL-2+ / CC-BY-3.0 / CC0 sample kits below;
GPL-2 is the license all of them allow the combination under. The Latentforge code that loads it is
MIT OR Apache-2.0; the plugin bundle ships this file beside the code as a separate work.

## Model
A VAE whose decoder is a small DDSP-style synthesiser (models/train/drums/model.py): an MLP maps
(latent, lane) to 16 noise bands (level, decay, a 40-point gain curve each) from a fixed band-passed
noise bank and 4 sines (level, decay, pitch gliding from a start to an end frequency). Envelopes
are computed every ~2 ms and interpolated; the ONNX graph renders the waveform itself. The encoder
(log-mel CNN) is used only in training. Opset 17, dynamic batch, single file.

## Data
Debian package `{config.DEB}` {config.DEB_VERSION}. Every kit's license (from debian/copyright and
the kit's drumkit.xml / README) and whether it was used:

| kit | author | license | used |
|---|---|---|---|
{kits}

Instruments were mapped to lanes by name (models/train/drums/dataset.py), every velocity layer
kept, mono, resampled to 48 kHz, leading silence trimmed, cut to 1 s with a 10 ms fade,
peak-normalised. Each lane's one-shots were split 80/20 into training and held-out, seed 0:
{ev['train']} training and {ev['heldout']} held-out one-shots.

## Training
{ck['state']['step']} steps of batch 12 (each one-shot re-pitched by up to ±4 % and its level
varied), multi-resolution STFT loss (2048/512/128) + 0.02 x KL (free bits 0.1), Adam 5e-4 with
cosine decay, {ck['state']['seconds'] / 60:.1f} minutes on 2 CPU cores (`cargo xtask train drums`). This run was
planned as 20 minutes and resumed to 40 (the cosine schedule then restarts from the middle of the
longer plan); the first 20 minutes computed the sines' phase with a cumulative sum, replaced by
the equivalent closed form (identical in PyTorch and ONNX Runtime) for the rest.

## Measured (evaluate.py, through ONNX Runtime)
Fréchet distance between Gaussian fits of log-mel frames (40 bands, 10 ms hop, frames within 60 dB
of each sound's peak frame), against the {ev['heldout']} held-out real one-shots. Generated: 4 prior
samples (z ~ N(0, I)) per held-out one-shot, same lane, peak-normalised like the real ones (the
engine normalises every generated one-shot too). Lower is closer.

| set | Fréchet distance |
|---|---|
| generated one-shots, peak-normalised (what the plugin and CLI play) | {ev['fd_generated_vs_heldout']} |
| generated one-shots, raw model output | {ev['fd_generated_raw_vs_heldout']} |
| real training one-shots (real-vs-real floor) | {ev['fd_train_vs_heldout_floor']} |
| decaying white-noise bursts (naive baseline) | {ev['fd_noise_bursts_vs_heldout']} |

Per lane, peak-normalised (few held-out samples per lane, so these are noisy):

| lane | train | held-out | generated | real floor |
|---|---|---|---|---|
{lanes}

All generated samples were finite; raw peak |x| = {ev['generated_peak_max']} before normalisation.

## Limits
A few hundred one-shots and {ck['state']['seconds'] / 60:.0f} minutes of CPU training: the generated
set is far from the real one (about {ev['fd_generated_vs_heldout'] / ev['fd_train_vs_heldout_floor']:.0f}x the real-vs-real floor), closer than noise bursts but
clearly synthetic, worst on kicks and toms, best on open hats, crash and snare. The frozen noise
bank gives every noisy sound the same grain. Credit the kit authors above
when you publish renders made with this model.
"""
    (config.MODELS / "drums" / "CARD.md").write_text(card)
    print("card written")


if __name__ == "__main__":
    main()
