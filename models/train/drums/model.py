"""Drum one-shot VAE with a structured, DDSP-style decoder, small enough to train on two CPU cores.

Decoder (exported): latent z (8) + lane one-hot (9) -> an MLP -> the parameters of a synthesiser
shaped like an analogue drum voice, every part of which decays:
- 24 noise bands (log-spaced 30 Hz .. 20 kHz, from a fixed band-passed noise bank), each with an
  attack and two exponential decays (a burst and a tail) - the snap of a snare, the wash of hats
  and cymbals, the click of a kick;
- 8 sinusoids, each with an attack, an exponential decay and a pitch that glides from a start to
  an end frequency - the body of kicks and toms, the modes of a snare, the inharmonic partials of
  metal.
Every decay time is bounded by its lane's limit (config.MAX_DECAY_S), so a closed hat cannot ring
and a kick cannot drone whatever the latent; a sum of attack-then-exponential envelopes falls
monotonically once every attack is over. All of it is written with ops ONNX has (exp, sin, floor,
matmul, linear resize), so the exported graph renders audio directly: 1 s at 48 kHz per call.
Encoder (training only): log-mel spectrogram -> small CNN -> mean and log-variance of z.
"""
import math

import numpy as np
import torch
from torch import nn

import config

BANDS = 24
SINES = 8
BAND_PARAMS = 5      # level, decay, tail level, tail decay, attack
SINE_PARAMS = 6      # level, decay, start pitch, end pitch, glide time, attack
FRAMES = 480
N = config.LENGTH
SR = config.SR
MELS = 64
MIN_DECAY_S = 0.001
ENVELOPE_WEIGHT = 0.5
UNISON_WEIGHT = 0.5
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


def level(p, offset, top):
    return torch.exp(torch.clamp(p - offset, -12.0, top))


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
        self.register_buffer("t_env", torch.linspace(0, (N - 1) / SR, FRAMES))
        self.register_buffer("t_audio", torch.arange(N, dtype=torch.float32) / SR, persistent=False)

    def forward(self, z, lane, with_tones=False):
        """Audio [B, N]; with `with_tones`, also each sine's level and mean frequency (for the
        training loss's penalty on near-unison partials)."""
        p = self.mlp(torch.cat([z, lane], dim=-1)) + lane @ self.lane_params
        # The lane's decay limit (a matmul with the one-hot, so ONNX needs no gather).
        limit = (lane @ self.max_decay[:, None])[:, :, None]                # [B, 1, 1]

        def decay(q):
            return MIN_DECAY_S + (limit - MIN_DECAY_S) * torch.sigmoid(q)

        def attack(q):
            return 0.0002 + 0.02 * torch.sigmoid(q - 2.0)

        t = self.t_env
        nb = p[:, :BANDS * BAND_PARAMS].reshape(-1, BANDS, BAND_PARAMS, 1)
        # Envelopes are computed at FRAMES points (every ~2 ms) and linearly interpolated to
        # audio rate: the full-rate work is one multiply-add per band and sine.
        env = (1 - torch.exp(-t / attack(nb[:, :, 4]))) * (
            level(nb[:, :, 0], 3.0, 2.0) * torch.exp(-t / decay(nb[:, :, 1]))
            + level(nb[:, :, 2], 5.0, 2.0) * torch.exp(-t / decay(nb[:, :, 3] + 2.0)))

        s = p[:, BANDS * BAND_PARAMS:].reshape(-1, SINES, SINE_PARAMS, 1)
        tone_env = (1 - torch.exp(-t / attack(s[:, :, 5]))) * level(s[:, :, 0], 2.0, 1.0) * torch.exp(-t / decay(s[:, :, 1]))
        f_start = 30.0 * torch.exp(6.3 * torch.sigmoid(s[:, :, 2]))           # 30 Hz .. 16 kHz
        f_end = 30.0 * torch.exp(6.3 * torch.sigmoid(s[:, :, 3]))
        glide = 0.002 + 0.2 * torch.sigmoid(s[:, :, 4])

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
            amp = level(s[:, :, 0, 0], 2.0, 1.0)
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

    def loss(self, audio, lane, beta, free_bits):
        mu, logvar = self.encoder(audio, lane)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        out, amp, freq = self.decoder(z, lane, with_tones=True)
        rec = spectral_loss(out, audio) + ENVELOPE_WEIGHT * envelope_loss(out, audio)
        rec = rec + UNISON_WEIGHT * unison_penalty(amp, freq, lane)
        kl_dim = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).mean(0)
        kl = torch.clamp(kl_dim, min=free_bits).sum()
        return rec + beta * kl, dict(rec=rec.item(), kl=kl_dim.sum().item())
