"""Evaluates the shipped material network against the brightness heuristic on materials it never
saw, through the CLI users run (`latentforge texture maps`, both methods), and writes eval.json.

Two evaluation sets, both whole materials: `heldout` (trainable licences, held out by name) and
`gpl` (the GPL materials of nexuiz and ufoai, never trained on). Per material:
- normal: mean angle (degrees) between the made and the artist's normal; a flat normal (0, 0, 1)
  is the floor any method must beat;
- height: Pearson correlation with the artist's height map (heights have no common scale);
- roughness: mean absolute error to 1 - the specular/gloss map's luminance (the data's proxy).
Also: what storing the weights as float16 changes (mean and largest angle, on the held-out set).

    python evaluate.py
"""
import json
import subprocess
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image

import config
import dataset

EVAL = config.WORK / "material-eval"
SETS = {"heldout": "heldout", "gpl": "other"}


def unit(n):
    return n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-6)


def read_normal(path):
    return unit(np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 127.5 - 1)


def read_gray(path):
    a = np.asarray(Image.open(path), dtype=np.float32)
    a = a[..., 0] if a.ndim == 3 else a
    return a / (65535.0 if a.max() > 255 else 255.0)


def angle(a, b):
    return float(np.degrees(np.arccos(np.clip((a * b).sum(-1), -1, 1))).mean())


def correlation(a, b):
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    return float((a * b).sum() / max(np.sqrt((a * a).sum() * (b * b).sum()), 1e-9))


# method label -> (--method, --normal-strength). The heuristic also runs at gentler slopes than
# its default, so it is compared at its best, not only as shipped.
METHODS = {"network": ("network", 1.0), "heuristic": ("heuristic", 1.0),
           "heuristic_0.5": ("heuristic", 0.5), "heuristic_0.25": ("heuristic", 0.25)}


def make_maps(names, colour_dir):
    """Runs `latentforge texture maps` with every method on every colour file."""
    files = [str(colour_dir / f"{n}.png") for n in names]
    for label, (method, strength) in METHODS.items():
        cmd = ["cargo", "run", "--quiet", "--release", "-p", "latentforge-cli", "--", "--quiet", "texture", "maps",
               *files, "--method", method, "--normal-strength", str(strength), "--bits", "16", "--force",
               "--out-dir", str(EVAL / label)]
        subprocess.run(cmd, check=True, cwd=config.ROOT)


def score(materials):
    rows = []
    for m in materials:
        real_n = m["normal"].astype(np.float32) / 127.5 - 1
        row = {"name": m["name"], "flat_angle": angle(unit(real_n), np.array([0, 0, 1.0]))}
        for method in METHODS:
            d = EVAL / method
            row[f"{method}_angle"] = angle(unit(real_n), read_normal(d / f"{m['name']}_normal_gl.png"))
            if method not in ("network", "heuristic"):
                continue   # other strengths change the normal only
            if "height" in m:
                row[f"{method}_height_r"] = correlation(read_gray(d / f"{m['name']}_height.png"),
                                                        m["height"].astype(np.float32))
            if "rough" in m:
                row[f"{method}_rough_mae"] = float(np.abs(read_gray(d / f"{m['name']}_roughness.png")
                                                          - m["rough"].astype(np.float32) / 255).mean())
        rows.append(row)
    return rows


def summary(rows):
    def mean(key):
        vals = [r[key] for r in rows if key in r]
        return (float(np.mean(vals)), len(vals)) if vals else (None, 0)

    out = {"materials": len(rows)}
    for key in ("flat_angle", *(f"{m}_angle" for m in METHODS), "network_height_r", "heuristic_height_r",
                "network_rough_mae", "heuristic_rough_mae"):
        out[key], out[f"{key}_n"] = mean(key)
    out["angle_reduction_vs_heuristic"] = 1 - out["network_angle"] / out["heuristic_angle"]
    best = min(out[f"{m}_angle"] for m in METHODS if m.startswith("heuristic"))
    out["angle_reduction_vs_best_heuristic"] = 1 - out["network_angle"] / best
    return out


def half_check(materials):
    """Largest and mean angle between float32 and float16 weights' normals."""
    f32 = ort.InferenceSession(str(config.WORK / "material-float32.onnx"), providers=["CPUExecutionProvider"])
    f16 = ort.InferenceSession(str(config.MODELS / config.NAME / "material.onnx"), providers=["CPUExecutionProvider"])
    worst, means = 0.0, []
    for m in materials:
        s = m["colour"].shape[0] // config.MULTIPLE * config.MULTIPLE
        x = (m["colour"][:s, :s].astype(np.float32) / 255).transpose(2, 0, 1)[None]
        a, b = (np.moveaxis(sess.run(None, {"colour": x})[1][0], 0, -1) for sess in (f32, f16))
        deg = np.degrees(np.arccos(np.clip((unit(a) * unit(b)).sum(-1), -1, 1)))
        worst, means = max(worst, float(deg.max())), means + [float(deg.mean())]
    return {"mean_deg": float(np.mean(means)), "max_deg": worst}


GAINS = [1.0, 1.5, 2.0, 3.0, 4.0]


def gain_curve(materials):
    """Mean angular error of the raw network normals with their slopes scaled by each gain, and
    the mean slope magnitude of ours and the artists' (what NORMAL_GAIN is chosen from)."""
    sess = ort.InferenceSession(str(config.MODELS / config.NAME / "material.onnx"), providers=["CPUExecutionProvider"])
    errors, ours, theirs = {g: [] for g in GAINS}, [], []
    for m in materials:
        s = m["colour"].shape[0] // config.MULTIPLE * config.MULTIPLE
        x = (m["colour"][:s, :s].astype(np.float32) / 255).transpose(2, 0, 1)[None]
        n = np.moveaxis(sess.run(None, {"colour": x})[1][0], 0, -1)
        real = unit(m["normal"][:s, :s].astype(np.float32) / 127.5 - 1)
        slope = n[..., :2] / n[..., 2:3]
        ours.append(float(np.linalg.norm(slope, axis=-1).mean()))
        theirs.append(float(np.linalg.norm(real[..., :2] / np.maximum(real[..., 2:3], 0.05), axis=-1).mean()))
        for g in GAINS:
            errors[g].append(angle(real, unit(np.concatenate([slope * g, np.ones_like(slope[..., :1])], -1))))
    return {"gains": {str(g): float(np.mean(v)) for g, v in errors.items()},
            "slope_ours": float(np.mean(ours)), "slope_artists": float(np.mean(theirs)), "materials": len(materials)}


def main():
    results = {}
    for label, part in SETS.items():
        materials = dataset.load(part)
        colour_dir = EVAL / "colour"
        colour_dir.mkdir(parents=True, exist_ok=True)
        for m in materials:
            path = colour_dir / f"{m['name']}.png"
            if not path.exists():
                Image.fromarray(m["colour"]).save(path)
        make_maps([m["name"] for m in materials], colour_dir)
        rows = score(materials)
        results[label] = {"summary": summary(rows), "per_material": rows}
        print(label, json.dumps(results[label]["summary"], indent=1), file=sys.stderr)
    results["gain_curve"] = {"train": gain_curve(dataset.load("train")[::4]),
                             "heldout": gain_curve(dataset.load("heldout"))}
    print("gain curve", results["gain_curve"], file=sys.stderr)
    results["float16"] = half_check(dataset.load("heldout"))
    print("float16", results["float16"], file=sys.stderr)
    tmp = EVAL / "eval.tmp.json"
    tmp.write_text(json.dumps(results, indent=1))
    tmp.replace(EVAL / "eval.json")


if __name__ == "__main__":
    main()
