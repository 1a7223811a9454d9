"""Writes models/groove-decoder/CARD.md from the checkpoint's
training record and evaluate.py's measurements."""
import json
import tomllib

import torch

import config
import evaluate
import train

TEMPLATE = """# {name}

{role}

## Model
GrooVAE-shaped VAE (models/train/groove/model.py): bidirectional GRU encoder (hidden {hidden}) to a
{latent}-d latent; non-autoregressive decoder (latent broadcast over 32 steps + step embedding,
2-layer bidirectional GRU, hidden {hidden}) giving per step and lane the hit probability, velocity
(0..1) and micro-timing offset (-0.5..0.5 of a 16th). One ONNX call decodes a 2-bar pattern.
Exported with opset 17, dynamic batch, single file. Version {version}.
Weights are stored as float16 (`common/half.py`); ONNX Runtime computes in float32. Against the
float32 export (`groove/half_check.py`, 2000 prior latents): 23 of 57 512 hit decisions flip
(0.040 %, all within 0.001 of p = 0.5), velocities move at most 0.0004, offsets 0.0002 steps.

How a decoded pattern is played (`src/groove/take.rs`): the decoder's most likely hits (p > 0.5)
at their mean velocity and timing sound like an average drummer (the "most likely" column below:
MMD and velocity and timing spreads far from the data). The plugin and `latentforge groove` play
a seeded take instead: per groove, one uniform draw per lane read as a logit threshold, so each
lane is busier or sparser as a whole; per hit, a draw of its own at {cell_weight} of that weight
moves its logit (the lane draws alone play too few syncopations: "lane draws" below); a hit plays
when its moved logit beats its lane's threshold, so over many takes each cell plays about as often
as the decoder says. Each hit's velocity and offset vary by the spread the decoder leaves
unexplained on the training split (per lane, velocity {vel_spread}; offset in 16ths {off_spread}). The same seed and variation always play the same take.
Macro knobs 1-8 move latent dimensions {macros} (largest posterior-mean variance over the training
windows first), each by up to ±2 prior standard deviations.

## Data
Groove MIDI Dataset (Gillick, Roberts, Engel, Eck, Bamman: "Learning to Groove with Inverse
Sequence Transformations", ICML 2019; Magenta), **CC BY 4.0**, read from `../shared/data/groove-midi`
(not redistributed). 4/4 files only; 2-bar windows hopping one bar, 16 steps per bar, the 9-lane
reduction of the Roland TD-11 notes (kick, snare, closed hat, open hat, low/mid/high tom, crash,
ride); windows with < 4 hits dropped. Train split: {n_train} windows; validation split: {n_val}
windows (never trained on).

## Training
{steps} steps of batch 128 on the training split, Adam 1e-3 with cosine decay, KL weight {beta}
(warm-up over 2000 steps, free bits {free_bits} nats/dim), {minutes:.1f} minutes on 2 CPU cores
(`cargo xtask train groove`; TRAIN_MINUTES=N resumes it for longer). Every {every} steps the whole
validation split was scored (reconstruction + {beta} x KL); the exported weights are the best
scoring, from step {best_step}.

## Measured (evaluate.py, through ONNX Runtime, validation split)
Reconstruction (encode to the posterior mean with this VAE's encoder, decode, hits at p > 0.5;
then refined as `src/groove/refine.rs` does it: {refine_steps} Adam steps on the decoder's
cross-entropy for the clip's hits plus {feel_weight:g} x the squared error of their velocity and timing,
gradients by central differences, restated in evaluate.py;
measured on a subset, as it costs {probes} decodes per window and step). This is why `--from`
uses the clip VAE instead (`groove-clip-decoder` card: 0.945 of the steps from its encoder); the
encoder measured here is not shipped.

| metric | value |
|---|---|
| step accuracy (all 9 lanes right at a 16th step) | {r[step_accuracy]} |
| step accuracy on {r[subset_windows]} of the windows: encoder mean / refined as `--from` does it | {r[subset_step_accuracy]} / {r[subset_step_accuracy_refined]} |
| cell accuracy (step x lane) | {r[cell_accuracy]} (all-silence baseline {r[silence_baseline_accuracy]}) |
| hit precision / recall / F1 | {r[hit_precision]} / {r[hit_recall]} / {r[hit_f1]} |
| velocity MAE on matched hits | {r[velocity_mae]} |
| offset MAE on matched hits (16ths) | {r[offset_mae]} |

{n_prior} samples from the prior, z ~ N(0, I), against the {n_val} validation windows. "prior" is
what the plugin plays (a seeded take per pattern, density 50 %); "lane draws" is the same
without the per-hit draw; "most likely" reads hits at
p > 0.5 at their mean velocity and timing; "independent" draws each hit from its probability on
its own (GrooVAE's decoding); "train split" is the same number of training windows, the
data-vs-data reference.

| statistic | validation data | prior | prior, lane draws | prior, most likely | prior, independent | train split |
|---|---|---|---|---|---|---|
{rows}

Onset density is hits per bar per lane. Syncopation is the mean Longuet-Higgins & Lee score per
bar over the onsets of all lanes. Offsets are in 16ths (negative = ahead of the grid).

Kernel MMD² (Gaussian kernel, bandwidth {m[bandwidth]} = median pairwise distance, on the
32 x 9 hit grids), against the validation windows:

| set | MMD² |
|---|---|
| prior (plugin decoding) | {m[prior_vs_validation]} |
| prior, lane draws only | {m[prior_lane_only_vs_validation]} |
| prior, most likely hits | {m[prior_likely_vs_validation]} |
| prior, independent draws | {m[prior_sampled_vs_validation]} |
| train split (data vs data floor; mean of {floor_subsets} subsets of {n_val}, range {floor_range}) | {m[train_vs_validation]} |
| independent cells at the training hit rates (naive baseline) | {m[independent_cells_vs_validation]} |

Prior samples at the plugin's Temperature knob (30 samples each, z ~ N(0, T² I), plugin
decoding; 30 samples make the MMD noisy):

| Temperature | hits per bar | syncopation | velocity std | offset std | MMD² |
|---|---|---|---|---|---|
{temperature}
| validation data | {data[hits_per_bar]} | {data[syncopation]} | {data[velocity_std]} | {data[offset_std]} | |

## Limits
Trained for {minutes:.0f} minutes on a CPU, not the hours GrooVAE used. Against the validation
data the plugin's prior plays {sync_ratio:.0%} of its syncopation, {vel_ratio:.0%} of its velocity
spread and {off_ratio:.0%} of its micro-timing spread; on kernel MMD it is {mmd_ratio:.2f}x the
data-vs-data floor ({m[prior_vs_validation]} vs {m[train_vs_validation]}; independent cells at the
training hit rates: {m[independent_cells_vs_validation]}). Lanes whose density is more than 25 %
off the validation data's: {density_off} (the training split's own: {train_density_off}; the
model learned the training split). Reconstruction: step
accuracy {r[step_accuracy]} from this VAE's encoder (hit F1 {r[hit_f1]}), {r[subset_step_accuracy_refined]} after refining
(on {r[subset_windows]} windows, {r[subset_step_accuracy]} before): the smooth {latent}-d latent that makes every seed a
groove does not hold a given clip, so `--from` uses the clip VAE. 4/4 only.
"""


def manifest_version():
    with open(config.MODELS / "groove-decoder" / "model.toml", "rb") as f:
        return tomllib.load(f)["version"]


def spread_list(values):
    return ", ".join(f"{c} {v:.2f}" for c, v in zip(config.CLASSES, values, strict=True))


def temperature_table(ev):
    rows = []
    for t, v in ev["temperature"].items():
        st = v["stats"]
        rows.append(f"| {t} | {st['hits_per_bar']} | {st['syncopation']} | {st['velocity_std']} | "
                    f"{st['offset_std']} | {v['mmd2']} |")
    return "\n".join(rows)


def main():
    ck = torch.load(config.CKPT / "last.pt", weights_only=False)
    ex = json.loads((config.CKPT / "exported.json").read_text())
    ev = json.loads((config.CKPT / "eval.json").read_text())
    sets = ("data", "prior", "prior_lane_only", "prior_likely", "prior_sampled", "train_split")
    rows = []
    for i, c in enumerate(config.CLASSES):
        rows.append(f"| density {c} | " + " | ".join(f"{ev[s]['density'][i]:.2f}" for s in sets) + " |")
    for key, label in (("hits_per_bar", "hits per bar (all lanes)"), ("syncopation", "syncopation"),
                       ("velocity_mean", "velocity mean"), ("velocity_std", "velocity std"),
                       ("offset_mean", "offset mean"), ("offset_std", "offset std")):
        rows.append(f"| {label} | " + " | ".join(str(ev[s][key]) for s in sets) + " |")
    prior, data = ev["prior"], ev["data"]
    def density_off(density):
        return ", ".join(f"{c} {p / d:.0%}" for c, p, d in zip(config.CLASSES, density, data["density"], strict=True)
                         if abs(p / d - 1) > 0.25) or "none"
    common = dict(hidden=config.HIDDEN, latent=config.LATENT, data=data,
                  sync_ratio=prior["syncopation"] / data["syncopation"],
                  vel_ratio=prior["velocity_std"] / data["velocity_std"],
                  off_ratio=prior["offset_std"] / data["offset_std"],
                  mmd_ratio=ev["mmd2"]["prior_vs_validation"] / ev["mmd2"]["train_vs_validation"],
                  density_off=density_off(prior["density"]), train_density_off=density_off(ev["train_split"]["density"]),
                  cell_weight=evaluate.CELL_DRAW_WEIGHT, version=manifest_version(),
                  refine_steps=evaluate.REFINE_STEPS, feel_weight=evaluate.FEEL_WEIGHT, probes=2 * config.LATENT + 1,
                  macros=ex["macro_dims"], vel_spread=spread_list(ex["velocity_spread"]),
                  off_spread=spread_list(ex["offset_spread"]),
                  n_train=ev["windows"]["train"], n_val=ev["windows"]["validation"], n_prior=ev["windows"]["prior"],
                  floor_subsets=evaluate.FLOOR_SUBSETS,
                  floor_range="{:.5f}..{:.5f}".format(*ev["mmd2"]["train_vs_validation_range"]), steps=ck["state"]["step"],
                  minutes=ck["state"]["seconds"] / 60, r=ev["reconstruction"], m=ev["mmd2"], rows="\n".join(rows),
                  beta=train.BETA, free_bits=train.FREE_BITS, every=train.VALIDATE_EVERY,
                  best_step=ex.get("best_step", ck["state"]["step"]), temperature=temperature_table(ev))
    role = "Latent -> 2-bar drum pattern. Used by the Latent Groove plugin and `latentforge groove`."
    (config.MODELS / "groove-decoder" / "CARD.md").write_text(TEMPLATE.format(name="groove-decoder", role=role, **common))
    print("card written")


if __name__ == "__main__":
    main()
