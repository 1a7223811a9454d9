"""Measures the texture generator (or any set of images) the way the card reports it.

- seam score: mean absolute difference across the wrap-around edge / mean absolute difference
  between neighbouring pixels inside the image (1.0 = the seam is invisible);
- multi-scale sliced Wasserstein distance (SWD) on Laplacian-pyramid patches, as in the
  Progressive GAN paper (7x7 patches, per-level normalisation, random projections), x1e3:
  generated samples vs the held-out textures of the same class, beside the real-vs-real band:
  the same distance from sets of the class's other real textures (random draws of the training
  textures) to the held-out ones, as quartiles. A generator inside the band is as close to the
  held-out textures as other real textures of that class are. (One held-out texture against the
  other is no floor: the two held-out rocks are one cliff in two gradings, 0.0.26's
  `aegean_anatolia/cliff_02` and `cliff_03`.)
- diversity: the same SWD between two sets of generated samples of one class (higher = more
  varied; compare with the band).

    python evaluate.py                      # the exported model vs the held-out textures -> eval.json
    python evaluate.py --seam a.png b.png   # seam scores of image files (used by `cargo xtask test`)
    python evaluate.py --swd a.png b.png    # SWD between two image files
    python evaluate.py --band rock a.png    # quartiles of SWD from each training rock to a.png
"""
import argparse
import json
import sys

import numpy as np
from PIL import Image

import config
from common.image_metrics import seam_score, swd

BAND_DRAWS = 16         # random sets of real textures per class for the real-vs-real band
QUARTILES = (25, 50, 75)


def load_image(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255.0


def real_band(real, target, samples, draws=BAND_DRAWS, seed=0):
    """Quartiles of the SWD from `draws` random sets of `samples` real textures to `target`."""
    rng = np.random.default_rng(seed)
    picks = [rng.choice(len(real), min(samples, len(real)), replace=False) for _ in range(draws)]
    return np.percentile([swd([real[i] for i in p], target)[1] for p in picks], QUARTILES).tolist()


def image_band(cls, img):
    """Quartiles of the SWD from each training texture of class `cls` to one image: how far
    another real texture of that class typically is from it."""
    import dataset

    images, labels = dataset.load("train")
    c = config.CLASSES.index(cls)
    return np.percentile([swd([t / 255.0], [img])[1] for t in images[labels == c]], QUARTILES).tolist()


def generate(session, cls, seeds, size, truncation, n_classes, latent_ch, style, scale):
    out = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        cells = size // scale
        feeds = {
            "latent": rng.standard_normal((1, latent_ch, cells, cells)).astype(np.float32),
            "z_coarse": (z := rng.standard_normal((1, style)).astype(np.float32)),
            "z_fine": z,
            "class": np.eye(n_classes, dtype=np.float32)[[cls]],
            "truncation": np.full((1, 1), truncation, dtype=np.float32),
            "noise": rng.standard_normal((1, 1, size, size)).astype(np.float32),
        }
        img = session.run(None, feeds)[0][0].transpose(1, 2, 0)
        out.append(np.clip((img + 1) / 2, 0, 1))
    return out


def evaluate_model(samples=8, size=256, truncation=1.0):
    import onnxruntime as ort

    import dataset

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    session = ort.InferenceSession(str(config.MODELS / config.NAME / f"{config.NAME}.onnx"), so,
                                   providers=["CPUExecutionProvider"])
    held, held_labels = dataset.load("heldout")
    train, train_labels = dataset.load("train")
    result = {"samples_per_class": samples, "size": size, "truncation": truncation, "band_draws": BAND_DRAWS,
              "classes": {}}
    for c, name in enumerate(config.CLASSES):
        real = [h / 255.0 for h in held[held_labels == c]]
        gen_a = generate(session, c, range(1000, 1000 + samples), size, truncation, len(config.CLASSES),
                         config.LATENT_CH, config.Z, config.SCALE)
        gen_b = generate(session, c, range(2000, 2000 + samples), size, truncation, len(config.CLASSES),
                         config.LATENT_CH, config.Z, config.SCALE)
        band = real_band([t / 255.0 for t in train[train_labels == c]], real, samples)
        to_real = swd(gen_a, real)[1]
        diversity = swd(gen_a, gen_b)[1]
        seams = [seam_score(g) for g in gen_a]
        result["classes"][name] = {"swd_generated_vs_heldout": to_real, "swd_real_band": band,
                                   "swd_diversity": diversity, "seam_mean": float(np.mean(seams)),
                                   "seam_max": float(np.max(seams))}
        print(f"{name}: SWD gen-real {to_real:.1f} (real band {band[0]:.1f}-{band[2]:.1f}, median {band[1]:.1f}), "
              f"diversity {diversity:.1f}, seam {np.mean(seams):.3f} (max {np.max(seams):.3f})")
    (config.CKPT / "eval.json").write_text(json.dumps(result, indent=1))
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seam", nargs="+", metavar="IMAGE", help="print the seam score of each image file")
    ap.add_argument("--swd", nargs=2, metavar="IMAGE", help="print the SWD between two image files")
    ap.add_argument("--band", nargs=2, metavar=("CLASS", "IMAGE"),
                    help="print the quartiles of the SWD from each training texture of CLASS to IMAGE")
    args = ap.parse_args()
    if args.seam:
        for p in args.seam:
            print(f"{p}\t{seam_score(load_image(p)):.4f}")
    elif args.band:
        print(" ".join(f"{q:.2f}" for q in image_band(args.band[0], load_image(args.band[1]))))
    elif args.swd:
        print(f"{swd([load_image(args.swd[0])], [load_image(args.swd[1])])[1]:.2f}")
    else:
        evaluate_model()
    return 0


if __name__ == "__main__":
    sys.exit(main())
