"""Writes models/groove-clip-decoder/CARD.md and models/groove-clip-encoder/CARD.md from the
checkpoint's training record and evaluate.py's measurements."""
import collections
import json
import tomllib

import torch

import config
import train

groove_eval = config.groove_module("evaluate")

TEMPLATE = """# {name}

{role}

## Model
The clip VAE (models/train/groove-clip/model.py): an MLP encoder (864 -> 1024 -> 512) from the
whole 2-bar grid (32 steps x 9 lanes x hit, velocity, offset) to a {latent}-d latent posterior,
and an MLP decoder (512 -> 1024 -> 864) giving per step and lane the hit probability, velocity
(0..1) and micro-timing offset (-0.5..0.5 of a 16th). Both are exported around a whitened latent:
a Gaussian fitted to the training split's posteriors (principal axes, largest first) is folded
in, so `--spread` moves a clip's latent in units of how training grooves differ. Opset 17,
dynamic batch, single file. Version {version}.
Weights are stored as float16 (`common/half.py`); ONNX Runtime computes in float32. Against the
float32 export (`groove/half_check.py`): the decoder flips 12 of 69 375 hit decisions of 2000
prior latents (0.017 %), velocities move at most 0.0007, offsets 0.0007 steps; the encoder's
latent means move 0.0067 posterior sd on average (0.05 at most) on 500 random clips.

Why a second groove VAE: the groove VAE (`groove-decoder`) is made for sampling (KL weight 0.1,
32-d latent, every seed a groove) and gives back {g_acc} of an unseen clip's 16th steps
({g_ref} after refining). This one keeps far more of a clip in its latent (KL weight {beta},
~{kl:.0f} nats) and gives it back, but its own prior samples fall between grooves (table below),
so the plugin and seeded grooves keep sampling the groove VAE.

## Data
Groove MIDI Dataset (Gillick, Roberts, Engel, Eck, Bamman: "Learning to Groove with Inverse
Sequence Transformations", ICML 2019; Magenta), **CC BY 4.0**, read from `../shared/data/groove-midi`
(not redistributed); the same 2-bar windows as the groove VAE (models/train/groove/dataset.py).
Train split: {n_train} windows; validation split: {n_val} windows (never trained on).

## Training
{steps} steps of batch 128 on the training split, Adam 1e-3 with cosine decay, KL weight {beta}
(warm-up over 2000 steps), {minutes:.1f} minutes on 2 CPU cores (`cargo xtask train groove-clip`).
Lane mixing: in {mix:.0%} of the windows each lane group (kick; snare; hats and ride; toms; crash)
comes from another training window, so the model learns to code the parts of a groove rather
than the training grooves by heart (measured in 4-minute probes: without it 0.99 of training
steps right and 0.79 of validation steps; with it 0.95 / 0.89). Every {every} steps the whole
validation split was reconstructed; the exported weights are those with the best validation step
accuracy, from step {best_step}.

## Measured (evaluate.py, through ONNX Runtime, validation split)
Encode to the posterior mean, decode, hits at p > 0.5. `--from` then refines the latent
({refine_steps} Adam steps on the decoder's cross-entropy for the clip's hits plus {feel_weight:g} x the squared
error of their velocity and timing, gradients by central differences: `src/groove/refine.rs`, restated in ../groove/evaluate.py; on a subset, as it costs
{probes} decodes per window and step).

| metric | clip VAE | groove VAE (for comparison) |
|---|---|---|
| step accuracy (all 9 lanes right at a 16th step) | **{r[step_accuracy]}** | {g_acc} |
| step accuracy on {r[subset_windows]} windows: encoder / refined as `--from` does it | {r[subset_step_accuracy]} / {r[subset_step_accuracy_refined]} | {g_sub} / {g_ref} |
| cell accuracy (step x lane) | {r[cell_accuracy]} (all-silence baseline {r[silence_baseline_accuracy]}) | {g_cell} |
| hit precision / recall / F1 | {r[hit_precision]} / {r[hit_recall]} / {r[hit_f1]} | F1 {g_f1} |
| velocity MAE on matched hits | {r[velocity_mae]} | {g_vel} |
| offset MAE on matched hits (16ths) | {r[offset_mae]} | {g_off} |
| the {r[subset_windows]} windows' velocity / offset MAE: encoder → refined | {r[subset_velocity_mae]} / {r[subset_offset_mae]} → {r[subset_velocity_mae_refined]} / {r[subset_offset_mae_refined]} | |

Its prior, for the record ({n_prior} samples, z ~ N(0, I), most likely hits) against the
validation windows:

| statistic | validation data | clip VAE prior |
|---|---|---|
| hits per bar | {data[hits_per_bar]} | {prior[hits_per_bar]} |
| syncopation | {data[syncopation]} | {prior[syncopation]} |
| velocity std | {data[velocity_std]} | {prior[velocity_std]} |
| offset std | {data[offset_std]} | {prior[offset_std]} |
| kernel MMD² (train split vs validation: {m[train_vs_validation]}) | | {m[prior_likely_vs_validation]} |

The prior's syncopation is {sync_ratio:.0%} of the data's: between training grooves the decoder
leaves holes on the strong 8ths. The groove VAE's seeded takes match the data (its card).

## Limits
4/4, 2 bars per latent, 9 lanes. Trained {minutes:.0f} minutes on a CPU. A clip unlike the Groove
MIDI drummers' playing (e.g. 32nd-note rolls, which the 16th grid cannot hold) comes back as its
nearest 16th-note groove.
"""


def main():
    ck = torch.load(config.CKPT / "last.pt", weights_only=False)
    ex = json.loads((config.CKPT / "exported.json").read_text())
    ev = json.loads((config.CKPT / "eval.json").read_text())
    # The groove VAE's figures beside ours, when its evaluation ran on this machine.
    groove_eval_json = config.WORK / "groove-ckpt" / "eval.json"
    groove = (json.loads(groove_eval_json.read_text())["reconstruction"] if groove_eval_json.exists()
              else collections.defaultdict(lambda: "(see groove-decoder's card)"))
    with open(config.MODELS / config.DECODER_NAME / "model.toml", "rb") as f:
        version = tomllib.load(f)["version"]
    common = dict(latent=config.LATENT, version=version, beta=train.BETA, mix=train.MIX_SHARE,
                  every=train.VALIDATE_EVERY, kl=ex["kl"], steps=ck["state"]["step"],
                  minutes=ck["state"]["seconds"] / 60, best_step=ex.get("best_step", ck["state"]["step"]),
                  refine_steps=groove_eval.REFINE_STEPS, feel_weight=groove_eval.FEEL_WEIGHT, probes=2 * config.LATENT + 1,
                  n_train=ev["windows"]["train"], n_val=ev["windows"]["validation"], n_prior=ev["windows"]["prior"],
                  r=ev["reconstruction"], data=ev["data"], prior=ev["prior_likely"], m=ev["mmd2"],
                  sync_ratio=ev["prior_likely"]["syncopation"] / ev["data"]["syncopation"],
                  g_acc=groove["step_accuracy"], g_sub=groove["subset_step_accuracy"],
                  g_ref=groove["subset_step_accuracy_refined"], g_cell=groove["cell_accuracy"],
                  g_f1=groove["hit_f1"], g_vel=groove["velocity_mae"], g_off=groove["offset_mae"])
    for name, role in ((config.DECODER_NAME, "Latent -> 2-bar drum pattern, for clips: `latentforge groove --from clip.mid` "
                                             "decodes a clip's latent and its variations with it."),
                       (config.ENCODER_NAME, "2-bar drum pattern -> latent posterior: `latentforge groove --from clip.mid` "
                                             "encodes the clip with it; trained jointly with groove-clip-decoder (same card).")):
        (config.MODELS / name / "CARD.md").write_text(TEMPLATE.format(name=name, role=role, **common))
    print("cards written")


if __name__ == "__main__":
    main()
