"""Drum one-shot VAE with a structured, DDSP-style decoder, small enough to train on two CPU cores.

Decoder (exported): latent z (8) + lane one-hot (9) -> an MLP -> the parameters of a synthesiser
shaped like an analogue drum voice, every part of which decays:
- 32 noise bands (log-spaced 30 Hz .. 20 kHz, from a fixed band-passed noise bank) - the snap of a
  snare, the wash of hats and cymbals, the click of a kick;
- 8 sinusoids with a pitch that glides from a start to an end frequency - the body of kicks and
  toms, the modes of a snare, the inharmonic partials of metal.
Each band and sine has its own envelope: an attack, then a log-level that falls at its own rate in
each of 8 segments between knots (KNOTS, 0 .. 0.6 s), so every band has its own decay shape (a
burst then a ring, or a ring then a choke). Every rate is at least its lane's limit
(config.MAX_DECAY_S), so a closed hat cannot ring and a kick cannot drone whatever the latent; a
sum of attack-then-falling envelopes falls monotonically once every attack is over. All of it is
written with ops ONNX has (exp, sin, floor, matmul, linear resize), so the exported graph renders
audio directly: 1 s at 48 kHz per call.
Encoder (training only): log-mel spectrogram -> small CNN -> mean and log-variance of z.
"""
import math

import numpy as np
import torch
from torch import nn

import config

BANDS = 32
SINES = 8
# Envelope knots (s): each envelope's log-level falls at its own rate in every segment between two
# knots (the last runs to the end). Dense early, where drums change fastest.
KNOTS = (0.0, 0.005, 0.015, 0.035, 0.075, 0.15, 0.3, 0.6)
ENVELOPE_PARAMS = 2 + len(KNOTS)  # level, attack, a decay rate per knot segment
BAND_PARAMS = ENVELOPE_PARAMS
SINE_PARAMS = ENVELOPE_PARAMS + 3  # + start pitch, end pitch, glide time
FRAMES = 480
N = config.LENGTH
SR = config.SR
MELS = 64
MIN_DECAY_S = 0.001
ENVELOPE_WEIGHT = 0.5
UNISON_WEIGHT = 0.5
MEL_FRAMES_WEIGHT = 3.0
MEMBRANE = torch.tensor([float(lane in ("kick", "snare", "low_tom", "mid_tom", "high_tom")) for lane in config.LANES])


def noise_bank(seed=1234):
    """Fixed white noise split into log-spaced bands (30 Hz .. 20 kHz) by FFT masks."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(N)
    spec = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(N, 1 / SR)
    edges = np.geomspace(30, 20000, BANDS + 1)
    bank = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        band = np.fft.irfft(spec * ((freqs >= lo) & (freqs < hi)), n=N)
        bank.append(band / (band.std() + 1e-9))
    return torch.tensor(np.stack(bank), dtype=torch.float32)


def level(q):
    """An envelope's peak level from its raw parameter (bounded, so no band can blow up)."""
    return torch.exp(torch.clamp(q - 3.0, -12.0, 2.0))


def segment_lengths(t):
    """[len(KNOTS), len(t)]: how much of each knot segment lies before each time in `t`; the
    log-envelope is then minus (rates @ this), a piecewise-linear fall through every knot."""
    starts = torch.tensor(KNOTS)[:, None]
    ends = torch.tensor(KNOTS[1:] + (float("inf"),))[:, None]
    return torch.minimum(torch.clamp(t[None] - starts, min=0.0), ends - starts)


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        n_out = BANDS * BAND_PARAMS + SINES * SINE_PARAMS
        self.mlp = nn.Sequential(
            nn.Linear(config.LATENT + len(config.LANES), 256), nn.LeakyReLU(0.1),
            nn.Linear(256, 256), nn.LeakyReLU(0.1),
            nn.Linear(256, 256), nn.LeakyReLU(0.1),
            nn.Linear(256, n_out),
        )
        # Each lane's own synthesis parameters, added to the MLP's: trained at a higher rate
        # (train.py), they set a lane's spectrum and envelopes in a few hundred steps, and the
        # MLP learns the variation around them.
        self.lane_params = nn.Parameter(torch.zeros(len(config.LANES), n_out))
        self.register_buffer("bank", noise_bank())
        self.register_buffer("max_decay", torch.tensor([config.MAX_DECAY_S[lane] for lane in config.LANES]))
        t_env = torch.linspace(0, (N - 1) / SR, FRAMES)
        self.register_buffer("t_env", t_env)
        self.register_buffer("segments", segment_lengths(t_env))
        self.register_buffer("t_audio", torch.arange(N, dtype=torch.float32) / SR, persistent=False)

    def envelope(self, q, limit):
        """Envelopes at FRAMES points from q = [.., level, attack, one rate per knot segment]:
        an attack, then a log-level falling through the knots, every segment at least as fast as
        the lane's limit (a time constant of `limit` seconds at most), so the decay rule holds
        for any latent."""
        rate = 1.0 / (MIN_DECAY_S + (limit - MIN_DECAY_S) * torch.sigmoid(q[..., 2:]))
        fall = rate @ self.segments
        attack = 0.0002 + 0.02 * torch.sigmoid(q[..., 1:2] - 2.0)
        return (1 - torch.exp(-self.t_env / attack)) * level(q[..., :1]) * torch.exp(-fall)

    def forward(self, z, lane, with_tones=False):
        """Audio [B, N]; with `with_tones`, also each sine's level and mean frequency (for the
        training loss's penalty on near-unison partials)."""
        p = self.mlp(torch.cat([z, lane], dim=-1)) + lane @ self.lane_params
        # The lane's decay limit (a matmul with the one-hot, so ONNX needs no gather).
        limit = (lane @ self.max_decay[:, None])[:, :, None]                # [B, 1, 1]
        nb = p[:, :BANDS * BAND_PARAMS].reshape(-1, BANDS, BAND_PARAMS)
        s = p[:, BANDS * BAND_PARAMS:].reshape(-1, SINES, SINE_PARAMS)
        # Envelopes are computed at FRAMES points (every ~2 ms) and linearly interpolated to
        # audio rate: the full-rate work is one multiply-add per band and sine.
        env = self.envelope(nb, limit)
        tone_env = self.envelope(s[..., :ENVELOPE_PARAMS], limit)
        pitch = s[..., ENVELOPE_PARAMS:, None]
        f_start = 30.0 * torch.exp(6.3 * torch.sigmoid(pitch[:, :, 0]))     # 30 Hz .. 16 kHz
        f_end = 30.0 * torch.exp(6.3 * torch.sigmoid(pitch[:, :, 1]))
        glide = 0.002 + 0.2 * torch.sigmoid(pitch[:, :, 2])

        up = nn.functional.interpolate(torch.cat([env, tone_env], 1), size=N, mode="linear", align_corners=True)
        env, tone_env = up[:, :BANDS], up[:, BANDS:]
        noise = (env * self.bank[None]).sum(1)
        # Phase in cycles is the integral of f_end + (f_start - f_end) exp(-t / glide), in closed
        # form: exact at every sample, and identical in PyTorch and ONNX Runtime (a 48000-long
        # cumulative sum is not: its rounding depends on the summation order).
        ts = self.t_audio
        phase = f_end * ts + (f_start - f_end) * glide * (1 - torch.exp(-ts / glide))
        phase = phase - torch.floor(phase)                                 # keep sin's argument small
        tone = (tone_env * torch.sin(2 * math.pi * phase)).sum(1)
        if with_tones:
            amp = level(s[:, :, 0])
            return noise + tone, amp, torch.sqrt(f_start * f_end)[:, :, 0]
        return noise + tone


def mel_matrix(n_fft=1024, mels=MELS):
    freqs = np.fft.rfftfreq(n_fft, 1 / SR)
    mel = lambda f: 2595 * np.log10(1 + f / 700)
    pts = np.linspace(mel(30), mel(20000), mels + 2)
    hz = 700 * (10 ** (pts / 2595) - 1)
    m = np.zeros((mels, len(freqs)), np.float32)
    for i in range(mels):
        lo, c, hi = hz[i], hz[i + 1], hz[i + 2]
        m[i] = np.clip(np.minimum((freqs - lo) / (c - lo), (hi - freqs) / (hi - c)), 0, None)
    return torch.tensor(m)


def log_mel(x, mel, n_fft=1024, hop=480):
    spec = torch.stft(x, n_fft, hop, window=torch.hann_window(n_fft), return_complex=True).abs()
    return torch.log(mel @ spec + 1e-5)                     # [B, mels, frames]


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("mel", mel_matrix())
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 3, 2, 1), nn.LeakyReLU(0.1),
            nn.Conv2d(16, 32, 3, 2, 1), nn.LeakyReLU(0.1),
            nn.Conv2d(32, 64, 3, 2, 1), nn.LeakyReLU(0.1),
            nn.AdaptiveAvgPool2d((2, 4)), nn.Flatten(),
        )
        self.head = nn.Linear(64 * 8 + len(config.LANES), 2 * config.LATENT)

    def forward(self, audio, lane):
        f = self.net(log_mel(audio, self.mel)[:, None])
        mu, logvar = self.head(torch.cat([f, lane], -1)).chunk(2, -1)
        return mu, torch.clamp(logvar, -8.0, 4.0)


def envelope_loss(x, y, hop=480):
    """L1 between 10 ms RMS envelopes in nats, each clamped at 60 dB below the target's peak: it
    teaches the decay itself, which a spectral loss averaged over a 1 s sound barely sees."""
    def log_rms(a):
        return 0.5 * torch.log(a.reshape(len(a), -1, hop).pow(2).mean(-1) + 1e-12)
    ex, ey = log_rms(x), log_rms(y)
    floor = ey.max(1, keepdim=True)[0] - math.log(1000.0)
    return (torch.maximum(ex, floor) - torch.maximum(ey, floor)).abs().mean()


def unison_penalty(amp, freq, lane):
    """Near-unison sines beat: two partials a few percent apart make a kick or a tom wobble.
    For the membrane lanes (kick, snare, toms; metal may shimmer), the sum over pairs of sines of
    their product of levels (relative to the loudest) times exp(-|log frequency ratio| / 0.1)."""
    rel = amp / (amp.max(1, keepdim=True)[0] + 1e-9)
    logf = torch.log(freq)
    closeness = torch.exp(-(logf[:, :, None] - logf[:, None, :]).abs() / 0.1)
    pairs = rel[:, :, None] * rel[:, None, :] * closeness
    pairs = torch.triu(pairs, diagonal=1).sum((1, 2))
    membrane = lane @ MEMBRANE.to(lane)
    return (pairs * membrane).mean()


def mel_frames_loss(x, y, mel):
    """L1 between 10 ms log-mel frames (0.5 ln of power, 40 bands: the features evaluate.py's
    Fréchet distance compares), each clamped 100 dB below the target's loudest cell: the quiet
    bands of a decaying tail, which dominate those features and which the linear-frequency
    losses weigh by bin count, not by band."""
    def log_mel_power(a):
        spec = torch.view_as_real(torch.stft(a, 1024, 480, window=torch.hann_window(1024), return_complex=True))
        return 0.5 * torch.log(mel @ spec.pow(2).sum(-1) + 1e-10)
    lx, ly = log_mel_power(x), log_mel_power(y)
    floor = ly.amax((1, 2), keepdim=True) - 0.5 * math.log(1e10)
    return (torch.maximum(lx, floor) - torch.maximum(ly, floor)).abs().mean()


def spectral_loss(x, y):
    """Multi-resolution STFT loss: L1 of log magnitudes plus spectral convergence."""
    total = 0.0
    for n_fft in (2048, 512, 128):
        w = torch.hann_window(n_fft)
        # |X| as sqrt(re^2 + im^2 + eps): its gradient stays finite where the output is silent.
        Xc = torch.view_as_real(torch.stft(x, n_fft, n_fft // 4, window=w, return_complex=True))
        X = torch.sqrt(Xc.pow(2).sum(-1) + 1e-12)
        Y = torch.stft(y, n_fft, n_fft // 4, window=w, return_complex=True).abs()
        total = total + (torch.log(X + 1e-5) - torch.log(Y + 1e-5)).abs().mean()
        total = total + torch.linalg.norm(Y - X) / (torch.linalg.norm(Y) + 1e-7)
    return total


class DrumVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()
        self.register_buffer("metric_mel", mel_matrix(1024, 40), persistent=False)

    def loss(self, audio, lane, beta, free_bits):
        mu, logvar = self.encoder(audio, lane)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        out, amp, freq = self.decoder(z, lane, with_tones=True)
        rec = spectral_loss(out, audio) + ENVELOPE_WEIGHT * envelope_loss(out, audio)
        rec = rec + MEL_FRAMES_WEIGHT * mel_frames_loss(out, audio, self.metric_mel)
        rec = rec + UNISON_WEIGHT * unison_penalty(amp, freq, lane)
        kl_dim = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).mean(0)
        kl = torch.clamp(kl_dim, min=free_bits).sum()
        return rec + beta * kl, dict(rec=rec.item(), kl=kl_dim.sum().item())


def fit_lane_prior(model, audio, lanes, batch=32):
    """Each lane's aggregate posterior as a Gaussian: the mean and the Cholesky factor of the
    covariance of the training one-shots' latents (spread of the means plus the mean posterior
    variance). The VAE's N(0, I) prior leaves holes between the few one-shots of a lane, where the
    decoder was never trained; sampling from where the lane's sounds are fills them less."""
    eye = torch.eye(len(config.LANES))
    mus, variances = [], []
    with torch.no_grad():
        for i in range(0, len(lanes), batch):
            mu, logvar = model.encoder(torch.from_numpy(audio[i:i + batch]), eye[lanes[i:i + batch]])
            mus.append(mu)
            variances.append(logvar.exp())
    mu, var = torch.cat(mus), torch.cat(variances)
    means, chols = [], []
    for k in range(len(config.LANES)):
        m, v = mu[lanes == k], var[lanes == k]
        # A lane with one one-shot (the permissive kits have such lanes) has no spread to fit.
        spread = torch.cov(m.T) if len(m) > 1 else torch.zeros(m.shape[1], m.shape[1])
        cov = spread + torch.diag(v.mean(0))
        means.append(m.mean(0))
        chols.append(torch.linalg.cholesky(cov))
    return torch.stack(means), torch.stack(chols)


class LanePriorDecoder(nn.Module):
    """The exported decoder: z ~ N(0, I) is mapped into the lane's fitted prior (fit_lane_prior)
    before synthesis, so the engine keeps drawing standard normals. One-hot matmuls pick the
    lane's mean and factor (ONNX needs no gather)."""

    def __init__(self, decoder, means, chols):
        super().__init__()
        self.decoder = decoder
        self.register_buffer("means", means)
        self.register_buffer("chols", chols.reshape(len(chols), -1))

    def forward(self, z, lane):
        latent = z.shape[-1]
        chol = (lane @ self.chols).reshape(-1, latent, latent)
        return self.decoder(lane @ self.means + (chol @ z[:, :, None])[:, :, 0], lane)
