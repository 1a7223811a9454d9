"""Image statistics the texture models' evaluations share: the seam score of a tileable image and
the multi-scale sliced Wasserstein distance (SWD) between image sets on Laplacian-pyramid 7x7
patches, as in the Progressive GAN paper (per-level normalisation, random projections), x1e3."""
import numpy as np

PATCH = 7
PATCHES_PER_LEVEL = 1024
PROJECTIONS = 512
LEVELS = 4


def seam_score(img):
    """img: H x W x C floats."""
    img = img.astype(np.float64)
    right = np.abs(img - np.roll(img, -1, axis=1)).mean(axis=2)
    down = np.abs(img - np.roll(img, -1, axis=0)).mean(axis=2)
    seam = np.concatenate([right[:, -1], down[-1, :]])
    inside = np.concatenate([right[:, :-1].ravel(), down[:-1, :].ravel()])
    return float(seam.mean() / max(inside.mean(), 1e-12))


def gaussian_down(img):
    k = np.array([1, 4, 6, 4, 1], dtype=np.float64) / 16
    for axis in (0, 1):
        img = sum(w * np.roll(img, s, axis=axis) for w, s in zip(k, range(-2, 3), strict=True))
    return img[::2, ::2]


def laplacian_pyramid(img, levels):
    out = []
    for _ in range(levels - 1):
        small = gaussian_down(img)
        up = np.repeat(np.repeat(small, 2, axis=0), 2, axis=1)[: img.shape[0], : img.shape[1]]
        out.append(img - up)
        img = small
    out.append(img)
    return out


def patches(imgs, rng, per_image):
    """Random 7x7x3 neighbourhoods from each level of each image's Laplacian pyramid."""
    levels = [[] for _ in range(LEVELS)]
    for img in imgs:
        for lv, p in enumerate(laplacian_pyramid(img.astype(np.float64), LEVELS)):
            h, w, _ = p.shape
            ys = rng.integers(0, h - PATCH + 1, per_image)
            xs = rng.integers(0, w - PATCH + 1, per_image)
            levels[lv].append(np.stack([p[y:y + PATCH, x:x + PATCH].ravel() for y, x in zip(ys, xs, strict=True)]))
    return [np.concatenate(lv) for lv in levels]


def swd(a_imgs, b_imgs, seed=0):
    """Per-level SWD x1e3 between two image sets, and their mean."""
    rng = np.random.default_rng(seed)
    pa = patches(a_imgs, rng, PATCHES_PER_LEVEL // max(1, len(a_imgs)) + 1)
    pb = patches(b_imgs, rng, PATCHES_PER_LEVEL // max(1, len(b_imgs)) + 1)
    dists = []
    for a, b in zip(pa, pb, strict=True):
        n = min(len(a), len(b))
        a, b = a[rng.permutation(len(a))[:n]], b[rng.permutation(len(b))[:n]]
        both = np.concatenate([a, b])
        mean, std = both.mean(0), both.std(0) + 1e-8
        a, b = (a - mean) / std, (b - mean) / std
        dirs = rng.standard_normal((a.shape[1], PROJECTIONS))
        dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
        pa_, pb_ = np.sort(a @ dirs, axis=0), np.sort(b @ dirs, axis=0)
        dists.append(float(np.abs(pa_ - pb_).mean() * 1e3))
    return dists, float(np.mean(dists))
