"""Measures the exported groove VAE (through ONNX Runtime, as the plugin runs it) on the
validation split of the Groove MIDI Dataset; writes .work/groove-ckpt/eval.json for card.py.

- Reconstruction: encode (posterior mean) -> decode -> hits at p > 0.5, against the input: step
  accuracy (all 9 lanes right at a 16th step, MusicVAE's per-step accuracy), cell accuracy, hit F1.
- Prior samples: z ~ N(0, I), played as the plugin plays them at density 0.5 (a seeded take per
  pattern: `play` below restates src/groove/take.rs), and for comparison the decoder's most likely
  hits (p > 0.5, mean velocity and timing) and hits drawn independently from their probabilities
  (GrooVAE's decoding); and 30 samples at each Temperature 0.5 / 1 / 1.5 (z scaled as the plugin's
  knob scales it). Compared with the validation windows on per-class onset density, syncopation,
  velocity and offset statistics, and a Gaussian-kernel MMD^2 on the hit grids. Baselines: the
  training split against validation (data vs data: the floor), and independent per-cell hits at
  the training frequencies.
"""
import json
import tomllib

import numpy as np
import onnxruntime as ort

import config
import dataset

C = len(config.CLASSES)
# Metrical weights of the 16 positions of a 4/4 bar (Longuet-Higgins & Lee).
LHL = np.array([0, -4, -3, -4, -2, -4, -3, -4, -1, -4, -3, -4, -2, -4, -3, -4])


def syncopation(hits):
    """Mean LHL syncopation per bar: an onset on a weak position followed by silence (all lanes)
    on the next stronger position scores the weight difference."""
    onset = hits.max(-1) > 0.5                           # [N, 32]
    bars = onset.reshape(-1, config.STEPS_PER_BAR)
    total = 0.0
    for bar in bars:
        for n in np.flatnonzero(bar):
            for m in range(n + 1, n + config.STEPS_PER_BAR):
                if LHL[m % 16] > LHL[n]:
                    if not bar[m % 16]:
                        total += LHL[m % 16] - LHL[n]
                    break
    return total / len(bars)


def stats(x):
    hit = x[..., :C] > 0.5
    vel, off = x[..., C:2 * C][hit], x[..., 2 * C:][hit]
    return dict(
        density=(hit.sum(axis=(0, 1)) / (len(x) * config.BARS)).round(3).tolist(),
        syncopation=round(float(syncopation(x[..., :C])), 3),
        velocity_mean=round(float(vel.mean()), 3), velocity_std=round(float(vel.std()), 3),
        offset_mean=round(float(off.mean()), 4), offset_std=round(float(off.std()), 4),
        hits_per_bar=round(float(hit.sum() / (len(x) * config.BARS)), 2),
    )


def mmd2(a, b, bandwidth):
    def k(x, y):
        d = (x * x).sum(1)[:, None] + (y * y).sum(1)[None] - 2 * x @ y.T
        return np.exp(-d / (2 * bandwidth ** 2))
    n, m = len(a), len(b)
    kaa, kbb, kab = k(a, a), k(b, b), k(a, b)
    return float((kaa.sum() - np.trace(kaa)) / (n * (n - 1)) + (kbb.sum() - np.trace(kbb)) / (m * (m - 1)) - 2 * kab.mean())


def decode(sess, z):
    """The decoder's most likely hits at their mean velocity and timing, and the probabilities."""
    p, v, o = sess.run(None, {"z": z.astype(np.float32)})
    return np.concatenate([(p > 0.5).astype(np.float32), v, o], axis=-1), p


LANE_THRESHOLD_LIMIT = 6.0   # src/groove/pattern.rs
CELL_DRAW_WEIGHT = 0.5       # src/groove/take.rs
PRIOR_PER_WINDOW = 3
FLOOR_SUBSETS = 5
# src/groove/refine.rs, restated: Adam on the decoder's hit cross-entropy + PRIOR_WEIGHT/2 |z|^2,
# gradients by central differences. Measured on a subset (it costs 65 decodes per window and step).
REFINE_STEPS, PROBE, REFINE_LR, PRIOR_WEIGHT, FEEL_WEIGHT = 30, 0.05, 0.05, 0.1, 10.0
REFINE_WINDOWS = 256


def logit(x):
    return np.log(x / (1 - x))


def play(sess, z, spread, rng, cell_weight=CELL_DRAW_WEIGHT):
    """What the plugin plays at density 0.5 (src/groove/take.rs): per pattern, one uniform draw per
    lane read as a logit threshold, plus a smaller draw per cell (`cell_weight`): a hit plays when
    its logit minus its cell draw beats its lane's threshold; each hit's velocity and offset varied
    by the lane's measured spread (the decoder manifest's [groove] table)."""
    p, v, o = sess.run(None, {"z": z.astype(np.float32)})
    threshold = np.clip(logit(rng.random((len(z), 1, C))), -LANE_THRESHOLD_LIMIT, LANE_THRESHOLD_LIMIT)
    moved = logit(np.clip(p, 1e-6, 1 - 1e-6)) - cell_weight * logit(rng.random(p.shape))
    hit = (moved > threshold).astype(np.float32)
    v = np.clip(v + np.array(spread["velocity_spread"]) * rng.standard_normal(v.shape), 1 / 127, 1)
    o = np.clip(o + np.array(spread["offset_spread"]) * rng.standard_normal(o.shape), -0.5, 0.5)
    return np.concatenate([hit, v, o], axis=-1).astype(np.float32)


def refine(sess, z, clips):
    """What `latentforge groove --from` does to the encoder's posterior means (src/groove/refine.rs)."""
    n, d = z.shape
    probes = np.concatenate([np.zeros((1, d)), PROBE * np.eye(d), -PROBE * np.eye(d)])
    first, second = np.zeros_like(z), np.zeros_like(z)
    target = (clips[:, None, :, :C] > 0.5).astype(np.float32)
    target_vel, target_off = clips[:, None, :, C:2 * C], clips[:, None, :, 2 * C:]
    for step in range(1, REFINE_STEPS + 1):
        batch = (z[:, None] + probes[None]).astype(np.float32)               # [n, 2d+1, d]
        p, v, o = sess.run(None, {"z": batch.reshape(-1, d)})
        p = np.clip(p.reshape(n, 2 * d + 1, config.STEPS, C), 1e-6, 1 - 1e-6)
        v, o = v.reshape(p.shape), o.reshape(p.shape)
        loss = -(target * np.log(p) + (1 - target) * np.log(1 - p)).sum((-1, -2))
        loss += FEEL_WEIGHT * (target * ((v - target_vel) ** 2 + (o - target_off) ** 2)).sum((-1, -2))
        loss += 0.5 * PRIOR_WEIGHT * (batch ** 2).sum(-1)
        g = (loss[:, 1:d + 1] - loss[:, d + 1:]) / (2 * PROBE)
        first = 0.9 * first + 0.1 * g
        second = 0.999 * second + 0.001 * g * g
        z = z - REFINE_LR * (first / (1 - 0.9 ** step)) / (np.sqrt(second / (1 - 0.999 ** step)) + 1e-8)
    return z


def feel_mae(sess, z, clips):
    """Velocity and offset MAE of the hits both the decoded patterns and `clips` play."""
    p, v, o = sess.run(None, {"z": z.astype(np.float32)})
    both = (p > 0.5) & (clips[..., :C] > 0.5)
    return (round(float(np.abs(v - clips[..., C:2 * C])[both].mean()), 4),
            round(float(np.abs(o - clips[..., 2 * C:])[both].mean()), 4))


def step_accuracy(sess, z, hits):
    p, _, _ = sess.run(None, {"z": z.astype(np.float32)})
    return round(float(((p > 0.5) == hits).all(-1).mean()), 4)


def reconstruction(enc, dec, val):
    """Encode (posterior mean) -> decode -> hits at p > 0.5, against the input; and on a subset,
    the same after refining the latents as `--from` does."""
    mu, _ = enc.run(None, {"pattern": val})
    rec, _ = decode(dec, mu)
    t, r = val[..., :C] > 0.5, rec[..., :C] > 0.5
    tp, fp, fn = (t & r).sum(), (~t & r).sum(), (t & ~r).sum()
    recon = dict(
        step_accuracy=round(float((t == r).all(-1).mean()), 4),
        cell_accuracy=round(float((t == r).mean()), 4),
        hit_precision=round(float(tp / (tp + fp)), 4), hit_recall=round(float(tp / (tp + fn)), 4),
        hit_f1=round(float(2 * tp / (2 * tp + fp + fn)), 4),
        silence_baseline_accuracy=round(float((~t).mean()), 4),
        velocity_mae=round(float(np.abs(rec[..., C:2 * C] - val[..., C:2 * C])[t & r].mean()), 4),
        offset_mae=round(float(np.abs(rec[..., 2 * C:] - val[..., 2 * C:])[t & r].mean()), 4),
    )

    sub = np.random.default_rng(1).choice(len(val), REFINE_WINDOWS, replace=False)
    t_sub = val[sub][..., :C] > 0.5
    recon["subset_windows"] = REFINE_WINDOWS
    recon["subset_step_accuracy"] = step_accuracy(dec, mu[sub], t_sub)
    refined = refine(dec, mu[sub].astype(np.float64), val[sub])
    recon["subset_step_accuracy_refined"] = step_accuracy(dec, refined, t_sub)
    recon["subset_velocity_mae"], recon["subset_offset_mae"] = feel_mae(dec, mu[sub], val[sub])
    recon["subset_velocity_mae_refined"], recon["subset_offset_mae_refined"] = feel_mae(dec, refined, val[sub])
    return recon


def main():
    rng = np.random.default_rng(0)
    train, val = dataset.load("train"), dataset.load("validation")
    # export.py leaves the encoder beside the checkpoint: it measures this VAE, it does not ship.
    enc = ort.InferenceSession(str(config.CKPT / "groove-encoder" / "groove-encoder.onnx"), providers=["CPUExecutionProvider"])
    dec = ort.InferenceSession(str(config.MODELS / "groove-decoder" / "groove-decoder.onnx"), providers=["CPUExecutionProvider"])
    with open(config.MODELS / "groove-decoder" / "model.toml", "rb") as f:
        spread = tomllib.load(f)["groove"]

    recon = reconstruction(enc, dec, val)
    n = len(val)
    # Three prior samples per validation window: syncopation and MMD of one draw of n vary by
    # about +-0.05 and +-10 % between draws.
    z = rng.standard_normal((PRIOR_PER_WINDOW * n, config.LATENT))
    prior = play(dec, z, spread, rng)
    lane_only = play(dec, z, spread, rng, cell_weight=0.0)
    likely, p_prior = decode(dec, z)
    # GrooVAE-style decoding for comparison: each hit drawn independently from its probability.
    sampled = likely.copy()
    sampled[..., :C] = (rng.random(p_prior.shape) < p_prior).astype(np.float32)
    # The floor: training windows against validation ones, the mean over a few subsets of n.
    train_subs = [train[rng.choice(len(train), n, replace=False)] for _ in range(FLOOR_SUBSETS)]
    train_sub = train_subs[0]
    freq = train[..., :C].mean(0)
    marginal = np.zeros_like(val)
    marginal[..., :C] = rng.random(val[..., :C].shape) < freq
    feats = lambda x: x[..., :C].reshape(len(x), -1)
    pooled = np.concatenate([feats(val), feats(train_sub)])
    sample = pooled[rng.choice(len(pooled), 1000, replace=False)]
    dist = np.sqrt(((sample[:, None] - sample[None]) ** 2).sum(-1))
    bw = float(np.median(dist[dist > 0]))
    floors = [mmd2(feats(t), feats(val), bw) for t in train_subs]
    result = dict(
        windows=dict(train=len(train), validation=n, prior=len(z)),
        reconstruction=recon,
        data=stats(val), prior=stats(prior), prior_lane_only=stats(lane_only), prior_likely=stats(likely),
        prior_sampled=stats(sampled),
        train_split=stats(train_sub),
        mmd2=dict(bandwidth=round(bw, 3),
                  prior_vs_validation=round(mmd2(feats(prior), feats(val), bw), 5),
                  prior_lane_only_vs_validation=round(mmd2(feats(lane_only), feats(val), bw), 5),
                  prior_likely_vs_validation=round(mmd2(feats(likely), feats(val), bw), 5),
                  prior_sampled_vs_validation=round(mmd2(feats(sampled), feats(val), bw), 5),
                  train_vs_validation=round(float(np.mean(floors)), 5),
                  train_vs_validation_range=[round(min(floors), 5), round(max(floors), 5)],
                  independent_cells_vs_validation=round(mmd2(feats(marginal), feats(val), bw), 5)),
        classes=config.CLASSES,
        temperature={},
    )
    for temp in (0.5, 1.0, 1.5):
        few = play(dec, temp * rng.standard_normal((30, config.LATENT)), spread, rng)
        result["temperature"][str(temp)] = dict(stats=stats(few), mmd2=round(mmd2(feats(few), feats(val), bw), 5))
    (config.CKPT / "eval.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
