"""Measures the exported drum model through ONNX Runtime: Fréchet distance between Gaussian fits of
log-mel frames (40 bands, 10 ms hop, frames within 60 dB of each sound's loudest frame) of
generated one-shots (peak-normalised like the data) and of the held-out real one-shots, against the real-vs-real floor (training
one-shots vs held-out) and a naive baseline (exponentially decaying white-noise bursts); the time
each lane takes to fall 40 dB below its peak, generated and real, and the largest rise of a
decaying lane's envelope after its peak. Writes eval.json and spectrograms.png into the
checkpoint folder for card.py."""
import json

import numpy as np
import onnxruntime as ort
import torch
from scipy import linalg

import config
import dataset
import spectrograms
from model import DrumVAE

N_FFT, HOP, MELS = 1024, 480, 40
# Prior samples per held-out one-shot: with 4 the distance moved between 2630 and 3721 over five
# seeds (the same model); with 16 it is steady enough to compare models.
GEN_PER_HELDOUT = 16


def mel_fb():
    freqs = np.fft.rfftfreq(N_FFT, 1 / config.SR)
    mel = lambda f: 2595 * np.log10(1 + f / 700)
    hz = 700 * (10 ** (np.linspace(mel(30), mel(20000), MELS + 2) / 2595) - 1)
    m = np.zeros((MELS, len(freqs)))
    for i in range(MELS):
        lo, c, hi = hz[i:i + 3]
        m[i] = np.clip(np.minimum((freqs - lo) / (c - lo), (hi - freqs) / (hi - c)), 0, None)
    return m


FB = mel_fb()
WIN = np.hanning(N_FFT)


def frames(x):
    n = 1 + (len(x) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None] + HOP * np.arange(n)[:, None]
    spec = np.abs(np.fft.rfft(x[idx] * WIN, axis=1)) ** 2
    logmel = np.log10(spec @ FB.T + 1e-10) * 10
    energy = logmel.max(1)
    return logmel[energy > energy.max() - 60]


def t40(x, hop=480):
    """Seconds from the loudest 10 ms frame to the last frame within 40 dB of it."""
    e = np.sqrt((x[:len(x) // hop * hop].reshape(-1, hop) ** 2).mean(1)) + 1e-12
    db = 20 * np.log10(e / e.max())
    return float((np.nonzero(db > -40)[0].max() - db.argmax() + 1) * hop / config.SR)


def largest_rise_db(x, hop=2400):
    """How far (dB) a 50 ms RMS envelope climbs back above its lowest point so far, after the
    peak, while it is within 60 dB of the peak: 0 for a sound that decays monotonically."""
    e = 20 * np.log10(np.sqrt((x[:len(x) // hop * hop].reshape(-1, hop) ** 2).mean(1)) + 1e-12)
    e = e[e.argmax():]
    e = e[e > e[0] - 60]
    return float((e - np.minimum.accumulate(e)).max())


def decay_stats(sounds):
    t = np.array([t40(s) for s in sounds])
    return dict(min=round(float(t.min()), 3), median=round(float(np.median(t)), 3), max=round(float(t.max()), 3),
                rise_db=round(max(largest_rise_db(s) for s in sounds), 2))


def normalised(sounds):
    """The engine peak-normalises every generated one-shot; the real ones were normalised to 0.9
    when the data set was built. Compare like with like: all at a 0.9 peak."""
    return sounds / np.maximum(np.abs(sounds).max(axis=1, keepdims=True), 1e-9) * 0.9


def features(sounds):
    return np.concatenate([frames(s) for s in sounds])


def frechet(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = linalg.sqrtm(s1 @ s2, disp=False)
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def reconstructions(held, held_lane):
    """The held-out one-shots encoded (posterior mean) and decoded by the checkpoint (PyTorch):
    how close the decoder gets to sounds it was not trained on when told what they are."""
    ck = torch.load(config.CKPT / "last.pt", weights_only=False)
    model = DrumVAE()
    model.load_state_dict(ck["model"], strict=False)
    model.eval()
    eye = torch.eye(len(config.LANES))

    def run(fn, lanes, *arrays):
        with torch.no_grad():
            return np.concatenate([fn(*(torch.from_numpy(a[i:i + 32]) for a in arrays), eye[lanes[i:i + 32]]).numpy()
                                   for i in range(0, len(lanes), 32)])

    mu = run(lambda x, lane: model.encoder(x, lane)[0], held_lane, held.astype(np.float32))
    return run(model.decoder, held_lane, mu)


def main():
    rng = np.random.default_rng(0)
    train, train_lane = dataset.load("train")
    held, held_lane = dataset.load("heldout")
    sess = ort.InferenceSession(str(config.MODELS / "drums" / "drums.onnx"), providers=["CPUExecutionProvider"])
    eye = np.eye(len(config.LANES), dtype=np.float32)
    gen_lanes = np.repeat(held_lane, GEN_PER_HELDOUT)
    gen = []
    for i in range(0, len(gen_lanes), 32):
        l = gen_lanes[i:i + 32]
        z = rng.standard_normal((len(l), config.LATENT)).astype(np.float32)
        gen.append(sess.run(None, {"z": z, "lane": eye[l]})[0])
    gen = np.concatenate(gen)
    raw_peak = float(np.abs(gen).max())
    finite = bool(np.isfinite(gen).all())
    fd_raw = frechet(features(gen), features(held))
    gen = normalised(gen)
    t = np.arange(config.LENGTH) / config.SR
    noise = normalised(np.stack([rng.standard_normal(config.LENGTH) * np.exp(-t / rng.uniform(0.05, 0.5)) for _ in gen_lanes]))
    fh = features(held)
    reconstructed = reconstructions(held, held_lane)
    result = dict(
        heldout=len(held), train=len(train), generated=len(gen),
        fd_generated_vs_heldout=round(frechet(features(gen), fh), 1),
        fd_generated_raw_vs_heldout=round(fd_raw, 1),
        fd_heldout_reconstructed_vs_heldout=round(frechet(features(normalised(reconstructed)), fh), 1),
        fd_train_vs_heldout_floor=round(frechet(features(train), fh), 1),
        fd_noise_bursts_vs_heldout=round(frechet(features(noise), fh), 1),
        per_lane={},
        generated_peak_max=round(raw_peak, 3),
        generated_finite=finite,
    )
    real = np.concatenate([train, held])
    real_lane = np.concatenate([train_lane, held_lane])
    for k, lane in enumerate(config.LANES):
        h, tr, g = held[held_lane == k], train[train_lane == k], gen[gen_lanes == k]
        result["per_lane"][lane] = dict(
            generated=round(frechet(features(g), features(h)), 1),
            floor=round(frechet(features(tr), features(h)), 1),
            decay_generated=decay_stats(g),
            decay_real=decay_stats(real[real_lane == k]),
        )
    config.CKPT.mkdir(parents=True, exist_ok=True)
    (config.CKPT / "eval.json").write_text(json.dumps(result, indent=1))
    # One generated kit (one prior sample per lane) above one real kit's worth of held-out sounds.
    kit = sess.run(None, {"z": rng.standard_normal((len(config.LANES), config.LATENT)).astype(np.float32),
                          "lane": eye})[0]
    real_kit = [held[held_lane == k][0] for k in range(len(config.LANES))]
    spectrograms.sheet([normalised(kit), real_kit], config.LANES, ["generated", "real (held-out)"],
                       config.CKPT / "spectrograms.png")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
