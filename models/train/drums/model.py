"""Drum one-shot VAE with a DDSP-style decoder, small enough to train on two CPU cores.

Decoder (exported): latent z (8) + lane one-hot (9) -> an MLP -> synthesis parameters:
- 16 noise bands (log-spaced, from a fixed band-passed noise bank): level, decay time and a
  slow gain curve (40 points, interpolated) each - snares, hats, cymbals, the attack of everything;
- 4 sinusoids: level, decay, and a pitch that glides from a start to an end frequency with its
  own time constant - kick and tom bodies, the ring of a snare.
All of it is written with ops ONNX has (exp, sin, floor, linear resize), so the exported graph
renders audio directly: 1 s at 48 kHz per call, no vocoder and no phase reconstruction.
Encoder (training only): log-mel spectrogram -> small CNN -> mean and log-variance of z.
"""
import math

import numpy as np
import torch
from torch import nn

import config

BANDS = 16
SINES = 4
CURVE = 40
FRAMES = 480
N = config.LENGTH
SR = config.SR
MELS = 64


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


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        n_out = BANDS * (2 + CURVE) + SINES * 5
        self.mlp = nn.Sequential(
            nn.Linear(config.LATENT + len(config.LANES), 256), nn.LeakyReLU(0.1),
            nn.Linear(256, 256), nn.LeakyReLU(0.1),
            nn.Linear(256, 256), nn.LeakyReLU(0.1),
            nn.Linear(256, n_out),
        )
        self.register_buffer("bank", noise_bank())
        self.register_buffer("t_env", torch.linspace(0, (N - 1) / SR, FRAMES))
        self.register_buffer("t_audio", torch.arange(N, dtype=torch.float32) / SR, persistent=False)

    def forward(self, z, lane):
        p = self.mlp(torch.cat([z, lane], dim=-1))
        b = BANDS
        t = self.t_env
        # Envelopes and pitch are computed at FRAMES points (every ~2 ms) and linearly
        # interpolated to audio rate: the full-rate work is one multiply-add per band and sine.
        level = torch.exp(torch.clamp(p[:, :b] - 3.0, -12.0, 2.0))                               # [B, bands]
        decay = 0.003 + 1.2 * torch.sigmoid(p[:, b:2 * b] - 1.0)        # seconds
        curve = p[:, 2 * b:2 * b + b * CURVE].reshape(-1, b, CURVE)
        curve = nn.functional.interpolate(curve, size=FRAMES, mode="linear", align_corners=True)
        env = level[:, :, None] * torch.exp(-t / decay[:, :, None] + 0.5 * torch.tanh(curve))

        s = p[:, 2 * b + b * CURVE:].reshape(-1, SINES, 5)
        amp = torch.exp(torch.clamp(s[..., 0] - 2.0, -12.0, 1.0))
        amp_decay = 0.01 + 1.5 * torch.sigmoid(s[..., 1])
        f_start = 30.0 * torch.exp(5.5 * torch.sigmoid(s[..., 2]))          # 30 Hz .. 7 kHz
        f_end = 30.0 * torch.exp(5.5 * torch.sigmoid(s[..., 3]))
        glide = 0.002 + 0.2 * torch.sigmoid(s[..., 4])
        tone_env = amp[..., None] * torch.exp(-t / amp_decay[..., None])

        up = nn.functional.interpolate(torch.cat([env, tone_env], 1), size=N, mode="linear", align_corners=True)
        env, tone_env = up[:, :b], up[:, b:]
        noise = (env * self.bank[None]).sum(1)
        # Phase in cycles is the integral of f_end + (f_start - f_end) exp(-t / glide), in closed
        # form: exact at every sample, and identical in PyTorch and ONNX Runtime (a 48000-long
        # cumulative sum is not: its rounding depends on the summation order).
        ts = self.t_audio
        g = glide[..., None]
        phase = f_end[..., None] * ts + (f_start - f_end)[..., None] * g * (1 - torch.exp(-ts / g))
        phase = phase - torch.floor(phase)                                 # keep sin's argument small
        tone = (tone_env * torch.sin(2 * math.pi * phase)).sum(1)
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


def spectral_loss(x, y):
    """Multi-resolution STFT loss: L1 of log magnitudes plus spectral convergence."""
    total = 0.0
    for n_fft in (2048, 512, 128):
        w = torch.hann_window(n_fft)
        X = torch.stft(x, n_fft, n_fft // 4, window=w, return_complex=True).abs()
        Y = torch.stft(y, n_fft, n_fft // 4, window=w, return_complex=True).abs()
        total = total + (torch.log(X + 1e-5) - torch.log(Y + 1e-5)).abs().mean()
        total = total + torch.linalg.norm(Y - X) / (torch.linalg.norm(Y) + 1e-7)
    return total


class DrumVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()

    def loss(self, audio, lane, beta, free_bits):
        mu, logvar = self.encoder(audio, lane)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        out = self.decoder(z, lane)
        rec = spectral_loss(out, audio)
        kl_dim = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).mean(0)
        kl = torch.clamp(kl_dim, min=free_bits).sum()
        return rec + beta * kl, dict(rec=rec.item(), kl=kl_dim.sum().item())
