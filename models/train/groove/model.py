"""Groove VAE: a GrooVAE-shaped model, small enough to train on two CPU cores.

Encoder: bidirectional GRU over the 32 steps -> mean and log-variance of a 32-d latent.
Decoder: non-autoregressive, so one ONNX call decodes a pattern: the latent is broadcast to every
step with a learned step embedding, a bidirectional GRU mixes the steps, and per step and class a
head gives the hit probability, velocity (0..1) and micro-timing offset (-0.5..0.5 steps).
"""
import torch
from torch import nn

import config

C = len(config.CLASSES)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(config.FEATURES, config.HIDDEN, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * config.HIDDEN, 2 * config.LATENT)

    def forward(self, pattern):
        _, h = self.rnn(pattern)                       # h: [2, N, H]
        h = torch.cat([h[0], h[1]], dim=-1)
        mu, logvar = self.head(h).chunk(2, dim=-1)
        return mu, logvar


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.z_in = nn.Linear(config.LATENT, config.HIDDEN)
        self.step = nn.Parameter(torch.randn(config.STEPS, config.HIDDEN) * 0.1)
        self.rnn = nn.GRU(config.HIDDEN, config.HIDDEN, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * config.HIDDEN, 3 * C)

    def logits(self, z):
        x = torch.tanh(self.z_in(z)).unsqueeze(1) + self.step.unsqueeze(0)
        y, _ = self.rnn(x)
        out = self.head(y)
        return out[..., :C], out[..., C:2 * C], out[..., 2 * C:]

    def forward(self, z):
        hit, vel, off = self.logits(z)
        return torch.sigmoid(hit), torch.sigmoid(vel), 0.5 * torch.tanh(off)


class GrooveVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()

    def loss(self, x, beta, free_bits):
        return vae_loss(self.encoder, self.decoder, x, beta, free_bits)


def vae_loss(encoder, decoder, x, beta, free_bits):
    """GrooVAE's loss (hits everywhere, velocity and offset only where a hit was played) plus
    `beta` x KL, each latent dimension's KL at least `free_bits` nats. Shared with the clip VAE."""
    mu, logvar = encoder(x)
    z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
    hit_l, vel_l, off_l = decoder.logits(z)
    hit, vel, off = x[..., :C], x[..., C:2 * C], x[..., 2 * C:]
    rec_hit = nn.functional.binary_cross_entropy_with_logits(hit_l, hit, reduction="sum") / len(x)
    rec_vel = ((torch.sigmoid(vel_l) - vel) ** 2 * hit).sum() / len(x)
    rec_off = ((0.5 * torch.tanh(off_l) - off) ** 2 * hit).sum() / len(x)
    kl_dim = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).mean(0)
    kl = torch.clamp(kl_dim, min=free_bits).sum()
    total = rec_hit + rec_vel + rec_off + beta * kl
    return total, dict(hit=rec_hit.item(), vel=rec_vel.item(), off=rec_off.item(), kl=kl_dim.sum().item())


def spreads(model, train):
    """Per lane, the standard deviation of the played velocities and offsets around the decoder's
    mean (posterior-mean reconstructions of the training windows, at the played hits): what the
    decoder leaves unexplained, and what a seeded take (src/groove/take.rs) varies hits by."""
    x = torch.from_numpy(train)
    with torch.no_grad():
        _, vel, off = model.decoder(model.encoder(x)[0])
    hit = train[..., :C] > 0.5
    vel_res = train[..., C:2 * C] - vel.numpy()
    off_res = train[..., 2 * C:] - off.numpy()
    return ([round(float(vel_res[..., c][hit[..., c]].std()), 4) for c in range(C)],
            [round(float(off_res[..., c][hit[..., c]].std()), 4) for c in range(C)])
