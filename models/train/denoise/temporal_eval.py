"""Measures `latentforge denoise --temporal` against single-frame denoising (OIDN's network, the
same pixels as OIDN) on the rendered sequences (render_sequences.py), through the CLI itself:
per-frame PSNR / SSIM against the 1024-spp references (as `--reference` prints them), temporal
error, the cost of the window, and that farm chunks give the same bytes as one run. Writes the
temporal section of models/denoise-hdr-alb-nrm/CARD.md, a strip and a GIF.

Temporal error: the mean absolute difference between consecutive frames after warping the earlier
one by the true motion (the reference's Vector pass), on display values (Reinhard, sRGB), over
pixels visible in both frames (in the frame, albedo and normal agreeing); minus the same quantity
for the references, so what remains is flicker the references do not have.

    cargo build -p latentforge-cli && python temporal_eval.py            # held-out sequences
    python temporal_eval.py --tune                                      # the tuning ones
"""
import argparse
import filecmp
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import OpenEXR
from PIL import Image

import config

BIN = Path(os.environ.get("LATENTFORGE_BIN", config.ROOT / "target" / "debug" / "latentforge"))
MODEL = "denoise-hdr-alb-nrm"
WINDOWS = (4, 8)
SHIPPED_WINDOW = 8
RECORD = config.CKPT / "temporal-eval.json"
SECTION = "<!-- temporal mode: written by models/train/denoise/temporal_eval.py -->"
# Excess flicker (display units) from which OIDN's per-frame output visibly flickers.
VISIBLE = 0.0005


def read(path):
    with OpenEXR.File(str(path)) as f:
        ch = {k: v.pixels.astype(np.float32) for k, v in f.parts[0].channels.items()}

    def group(name, parts):
        if f"ViewLayer.{name}" in ch:
            return ch[f"ViewLayer.{name}"][..., :3]
        return np.stack([ch[f"ViewLayer.{name}.{p}"] for p in parts], -1)
    return {"color": group("Combined", "RGB"), "albedo": group("Denoising Albedo", "RGB"),
            "normal": group("Denoising Normal", "XYZ"),
            "dx": ch.get("ViewLayer.Vector.X"), "dy": None if "ViewLayer.Vector.Y" not in ch else -ch["ViewLayer.Vector.Y"]}


def display(x):
    x = np.maximum(np.nan_to_num(x), 0)
    x = x / (1 + x)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)


def warp(img, dx, dy):
    """Bilinear sample of `img` where each pixel was in the previous frame; and where that is inside."""
    h, w = dx.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    sx, sy = xx + dx, yy + dy
    inside = (sx >= -0.5) & (sx <= w - 0.5) & (sy >= -0.5) & (sy <= h - 0.5)
    sx, sy = np.clip(sx, 0, w - 1), np.clip(sy, 0, h - 1)
    x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = sx - x0, sy - y0
    if img.ndim == 3:
        fx, fy = fx[..., None], fy[..., None]
    out = (img[y0, x0] * (1 - fx) + img[y0, x1] * fx) * (1 - fy) + (img[y1, x0] * (1 - fx) + img[y1, x1] * fx) * fy
    return out, inside


def visible_in_both(prev, cur):
    albedo, inside = warp(prev["albedo"], cur["dx"], cur["dy"])
    normal, _ = warp(prev["normal"], cur["dx"], cur["dy"])
    return inside & (np.abs(albedo - cur["albedo"]).max(-1) < 0.1) & ((normal * cur["normal"]).sum(-1) > 0.9)


def flicker(frames, refs):
    """Mean absolute display difference between consecutive warped frames, per frame pair."""
    out = []
    for t in range(1, len(frames)):
        mask = visible_in_both(refs[t - 1], refs[t])
        warped, _ = warp(display(frames[t - 1]), refs[t]["dx"], refs[t]["dy"])
        out.append(float(np.abs(display(frames[t]) - warped)[mask].mean()))
    return np.array(out)


def disoccluded_error(frames, refs):
    """Mean absolute display error against the reference on the pixels each frame newly shows
    (not visible in the frame before): where history could leave a trail."""
    out = []
    for t in range(1, len(frames)):
        mask = ~visible_in_both(refs[t - 1], refs[t])
        if mask.sum() < 16:
            continue
        out.append(float(np.abs(display(frames[t]) - display(refs[t]["color"]))[mask].mean()))
    return out


def kind(seq):
    """`static` (a still camera over high-contrast textures) or `orbit`, from the seed ranges."""
    seed = int(seq.name[1:])
    firsts = (config.SEQ_STATIC_TUNE_SEED, config.SEQ_STATIC_HELDOUT_SEED)
    return "static" if any(first <= seed < first + 100_000 for first in firsts) else "orbit"


def denoise(seq, spp, out, extra=()):
    """Runs the CLI on a sequence; returns its per-frame JSON lines and the seconds it took."""
    cmd = [str(BIN), "-q", "denoise", str(seq / f"noisy_{spp}" / "shot_####.exr"), "--out-dir", str(out),
           "--reference", str(seq / "ref" / "shot_####.exr"), "--json", *extra]
    start = time.time()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    lines = [r for r in map(json.loads, done.stdout.splitlines()) if "output" in r]
    return lines, time.time() - start


def evaluate(seqs, work):
    results = {}
    for seq in seqs:
        refs = [read(p) for p in sorted((seq / "ref").glob("shot_*.exr"))]
        ref_flicker = flicker([r["color"] for r in refs], refs)
        for spp in config.SEQ_SPP:
            runs = {"single": ()} | {f"temporal{k}": ("--temporal", "--window", str(k)) for k in WINDOWS}
            for name, extra in runs.items():
                out = work / seq.name / str(spp) / name
                lines, seconds = denoise(seq, spp, out, extra)
                frames = [read(out / Path(line["output"]).name)["color"] for line in lines]
                results[f"{seq.name}/{spp}/{name}"] = {
                    "sequence": seq.name, "spp": spp, "method": name, "seconds": seconds,
                    "psnr": [line["output_psnr"] for line in lines], "ssim": [line["output_ssim"] for line in lines],
                    "flicker": (flicker(frames, refs) - ref_flicker).tolist(),
                    "disoccluded": disoccluded_error(frames, refs), "kind": kind(seq),
                }
                print(f"{seq.name} {spp:2} spp {name:10} PSNR {np.mean(results[f'{seq.name}/{spp}/{name}']['psnr']):.2f} "
                      f"flicker {np.mean(results[f'{seq.name}/{spp}/{name}']['flicker']):.5f} ({seconds:.1f} s)", flush=True)
    return results


def chunks_match(seq, work):
    """Two farm chunks of a temporal run against one run: byte for byte."""
    one = work / "chunks" / "one"
    denoise(seq, 4, one, ("--temporal",))
    split = work / "chunks" / "split"
    for i in range(2):
        denoise(seq, 4, split, ("--temporal", "--chunk", f"{i}/2"))
    names = sorted(p.name for p in one.glob("*.exr"))
    return len(names) > 0 and all(filecmp.cmp(one / n, split / n, shallow=False) for n in names)


def summary(results):
    table = {}
    for spp in config.SEQ_SPP:
        rows = {}
        for method in ["single", *(f"temporal{k}" for k in WINDOWS)]:
            picked = [r for r in results.values() if r["spp"] == spp and r["method"] == method]
            rows[method] = {
                "psnr": float(np.mean([np.mean(r["psnr"]) for r in picked])),
                "ssim": float(np.mean([np.mean(r["ssim"]) for r in picked])),
                "flicker": float(np.mean([np.mean(r["flicker"]) for r in picked])),
                "seconds": float(np.sum([r["seconds"] for r in picked])),
                "per_sequence": {r["sequence"]: (float(np.mean(r["psnr"])), float(np.mean(r["flicker"])),
                                                 float(np.mean(r["disoccluded"])) if r["disoccluded"] else None, r["kind"])
                                 for r in picked},
            }
        table[spp] = rows
    return table


def strip_and_gif(seq, work, folder):
    """Reference / OIDN per frame / temporal at 4 spp: a strip of the middle frame and a GIF."""
    names = sorted(p.name for p in (seq / "ref").glob("shot_*.exr"))
    panels = []
    for name in names:
        imgs = [read(seq / "ref" / name)["color"], read(work / seq.name / "4" / "single" / name)["color"],
                read(work / seq.name / "4" / f"temporal{SHIPPED_WINDOW}" / name)["color"]]
        panels.append(np.concatenate([(display(i) * 255).clip(0, 255).astype(np.uint8) for i in imgs], 1))
    middle = panels[len(panels) // 2]
    Image.fromarray(middle).save(folder / "temporal_strip_4spp.jpg", quality=90)
    frames = [Image.fromarray(p).convert("P", palette=Image.Palette.ADAPTIVE) for p in panels]
    frames[0].save(folder / "temporal_4spp.gif", save_all=True, append_images=frames[1:], duration=120, loop=0)


def card_section(table, seqs, chunk_ok, shown):
    lines = [SECTION, "", "## Temporal mode (`denoise --temporal`)", "",
             f"Measured by `models/train/denoise/temporal_eval.py` through the CLI on {len(seqs)} held-out Cycles "
             f"sequences ({', '.join(s.name for s in seqs)}; `cycles_sequence.py`: {config.SEQ_FRAMES} frames of "
             f"{config.SEQ_RES}, a new sampling seed per frame, {config.SEQ_REF_SPP}-spp references with the "
             "Vector pass; `orbit`: the camera orbits, an object moves, a light in some; `static`: a still camera "
             "over a black and white checker floor, a brick or text wall and thin rods, a cube and a light move). "
             "Nothing is trained. History (weight 0.8) fades where it differs from the frame by more than "
             "1.5x the local noise + 0.01 (where a pixel moved by whole pixels, as under a still camera, "
             "the best match up to half a pixel away counts, so an edge that only jitters keeps its "
             "history), where the albedo/normal it came from is 0.1 away from every albedo/normal of the "
             "3x3 neighbourhood (a disocclusion), and is clamped to that neighbourhood's range; the "
             "settings were chosen on 3 tuning sequences (one orbit, two static). "
             "Temporal error is the flicker the references do not have (mean absolute display difference of "
             "consecutive frames warped by the true motion, minus the references' own); below 0 the output is "
             "steadier than the 1024-spp references.", "",
             "| spp | method | PSNR (dB) | SSIM | temporal error | vs single-frame | seconds (all sequences) |",
             "|---|---|---|---|---|---|---|"]
    for spp, rows in table.items():
        base = rows["single"]
        for method, r in rows.items():
            label = "OIDN per frame" if method == "single" else f"temporal, window {method[8:]}"
            ratio = "" if method == "single" else f"{r['flicker'] / base['flicker']:.2f}x, {r['psnr'] - base['psnr']:+.2f} dB"
            lines.append(f"| {spp} | {label} | {r['psnr']:.2f} | {r['ssim']:.4f} | {r['flicker']:.5f} | {ratio} | {r['seconds']:.1f} |")
    lines += ["", f"Per sequence, window {SHIPPED_WINDOW} against OIDN per frame. Excess flicker is the temporal error "
              "above; the ratio is ours over OIDN's, and the goal (0.5x or less) applies where OIDN visibly "
              f"flickers more than the reference (excess flicker of {VISIBLE} or more). The disoccluded error is "
              "the mean absolute display error against the reference on pixels each frame newly shows (where "
              "history could leave a trail): ours must not be above OIDN's.", "",
              "| sequence | camera | spp | PSNR OIDN -> ours | excess flicker OIDN -> ours | ratio | goal | "
              "disoccluded error OIDN -> ours |", "|---|---|---|---|---|---|---|---|"]
    for spp, rows in table.items():
        for name, (psnr, fl, ghost, camera) in rows[f"temporal{SHIPPED_WINDOW}"]["per_sequence"].items():
            bp, bf, bghost, _ = rows["single"]["per_sequence"][name]
            visible = bf >= VISIBLE
            goal = ("met" if fl / bf <= 0.5 and psnr >= bp else "MISSED") if visible else "n/a (OIDN steady)"
            ghosts = "-" if ghost is None else f"{bghost:.4f} -> {ghost:.4f}{'' if ghost <= bghost else ' (worse)'}"
            lines.append(f"| {name} | {camera} | {spp} | {bp:.2f} -> {psnr:.2f} | {bf:.5f} -> {fl:.5f} | "
                         f"{fl / bf:.2f}x | {goal} | {ghosts} |")
    lines += ["", f"Farm chunks: `--temporal --chunk 0/2` and `1/2` wrote the same bytes as one run: "
              f"{'yes' if chunk_ok else 'NO'}. What the window costs: each output needs the single-frame "
              "results of the window's frames; in one run they are kept, so a sequence costs one network run per "
              "frame plus the blend, and a farm chunk of C frames runs C + window - 1 networks.", "",
              f"Reference / OIDN per frame / temporal (window 8), 4 spp, middle frame of {shown.name} "
              f"({kind(shown)} camera):", "",
              "![reference, OIDN per frame, temporal](temporal_strip_4spp.jpg)", "",
              "The whole held-out sequence, same panels:", "", "![animation](temporal_4spp.gif)", ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tune", action="store_true", help="the tuning sequences, no card")
    parser.add_argument("--only", help="comma-separated sequence names (e.g. q2100000), no card")
    args = parser.parse_args()
    group = "tune" if args.tune else "heldout"
    seqs = sorted(p for p in (config.SEQUENCES / group).iterdir() if p.is_dir())
    if args.only:
        seqs = [p for p in seqs if p.name in args.only.split(",")]
        args.tune = True
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results = evaluate(seqs, work)
        table = summary(results)
        print(json.dumps(table, indent=1))
        if args.tune:
            return
        chunk_ok = chunks_match(seqs[0], work)
        folder = config.MODELS / MODEL
        shown = next((s for s in seqs if kind(s) == "static"), seqs[0])
        strip_and_gif(shown, work, folder)
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    RECORD.write_text(json.dumps({"results": results, "summary": table, "chunks_match": chunk_ok}, indent=1))
    card = folder / "CARD.md"
    text = card.read_text().split(SECTION)[0].rstrip() + "\n\n" + card_section(table, seqs, chunk_ok, shown)
    card.write_text(text)
    print(f"chunks match: {chunk_ok}; card section written to {card}")


if __name__ == "__main__":
    main()
