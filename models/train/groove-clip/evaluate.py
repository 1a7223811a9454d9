"""Measures the exported clip VAE (through ONNX Runtime, as `latentforge groove --from` runs it)
on the validation split: reconstruction as ../groove/evaluate.py measures the groove VAE's, and,
for the record of why the plugin does not sample from it, its prior's most likely hits against
the validation windows. Writes .work/groove-clip-ckpt/eval.json for card.py."""
import json

import numpy as np
import onnxruntime as ort

import config
import dataset

groove_eval = config.groove_module("evaluate")

C = len(config.CLASSES)


def main():
    rng = np.random.default_rng(0)
    train, val = dataset.load("train"), dataset.load("validation")
    enc = ort.InferenceSession(str(config.MODELS / config.ENCODER_NAME / f"{config.ENCODER_NAME}.onnx"),
                               providers=["CPUExecutionProvider"])
    dec = ort.InferenceSession(str(config.MODELS / config.DECODER_NAME / f"{config.DECODER_NAME}.onnx"),
                               providers=["CPUExecutionProvider"])
    recon = groove_eval.reconstruction(enc, dec, val)
    n = len(val)
    likely, _ = groove_eval.decode(dec, rng.standard_normal((groove_eval.PRIOR_PER_WINDOW * n, config.LATENT)))
    train_sub = train[rng.choice(len(train), n, replace=False)]
    feats = lambda x: x[..., :C].reshape(len(x), -1)
    pooled = np.concatenate([feats(val), feats(train_sub)])
    sample = pooled[rng.choice(len(pooled), 1000, replace=False)]
    dist = np.sqrt(((sample[:, None] - sample[None]) ** 2).sum(-1))
    bw = float(np.median(dist[dist > 0]))
    result = dict(
        windows=dict(train=len(train), validation=n, prior=len(likely)),
        reconstruction=recon,
        data=groove_eval.stats(val), prior_likely=groove_eval.stats(likely),
        mmd2=dict(prior_likely_vs_validation=round(groove_eval.mmd2(feats(likely), feats(val), bw), 5),
                  train_vs_validation=round(groove_eval.mmd2(feats(train_sub), feats(val), bw), 5)),
    )
    (config.CKPT / "eval.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
