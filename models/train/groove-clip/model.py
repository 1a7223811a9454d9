"""Clip VAE: the groove VAE `latentforge groove --from` uses, built to give a clip back.

The groove VAE (../groove) is made for sampling: its smooth latent (KL weight 0.1, 32-d) makes
every seed a groove, but it gives back only 0.60 of an unseen clip's 16th steps. This one has a
64-d latent at KL weight 0.01 and MLPs over the whole 2-bar grid (32 steps x 9 lanes x hit,
velocity, offset), trained with lane mixing (train.py): it gives back ~0.93. Its prior is the
worse one (its samples fall between grooves: the card), so the plugin and seeded grooves keep the
groove VAE, and a clip's variations are made in this latent.

The exported decoder's input is a whitened latent: `WhitenedDecoder` folds a Gaussian fitted to
the training split's posteriors (`fit_prior`) in front of it, so z ~ N(0, I) — what the plugin's
knobs draw — lands where the encoder puts real grooves, and the encoder's outputs are mapped
back the same way. With the small KL weight a faithful reconstruction needs, the posteriors do
not fill N(0, I) by themselves.
"""
import torch
from torch import nn

import config

groove_model = config.groove_module("model")

C = len(config.CLASSES)
GRID = config.STEPS * config.FEATURES


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(GRID, 1024), nn.GELU(), nn.Linear(1024, 512), nn.GELU(),
                                 nn.Linear(512, 2 * config.LATENT))

    def forward(self, pattern):
        mu, logvar = self.net(pattern).chunk(2, dim=-1)
        return mu, logvar


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(config.LATENT, 512), nn.GELU(), nn.Linear(512, 1024), nn.GELU(),
                                 nn.Linear(1024, GRID))

    def logits(self, z):
        out = self.net(z).view(-1, config.STEPS, config.FEATURES)
        return out[..., :C], out[..., C:2 * C], out[..., 2 * C:]

    def forward(self, z):
        hit, vel, off = self.logits(z)
        return torch.sigmoid(hit), torch.sigmoid(vel), 0.5 * torch.tanh(off)


class ClipVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()

    def loss(self, x, beta, free_bits):
        return groove_model.vae_loss(self.encoder, self.decoder, x, beta, free_bits)

    @torch.no_grad()
    def step_accuracy(self, x):
        """Posterior mean -> most likely hits: the share of 16th steps with all 9 lanes right."""
        hit_l, _, _ = self.decoder.logits(self.encoder(x)[0])
        return float(((hit_l > 0) == (x[..., :C] > 0.5)).all(-1).float().mean())


def fit_prior(encoder, x):
    """The Gaussian the whitened latent maps N(0, I) onto: mean and basis (principal axes scaled
    by their standard deviations, largest first) of the aggregate posterior on `x` (covariance
    of the posterior means plus the mean posterior variance). Dimension 0 of the whitened latent
    is then the direction along which the encoder spreads grooves most."""
    with torch.no_grad():
        mu, logvar = encoder(x)
    mean = mu.mean(0).double()
    cov = torch.cov(mu.T.double()) + torch.diag(logvar.exp().mean(0).double())
    var, axes = torch.linalg.eigh(cov)
    order = torch.argsort(var, descending=True)
    return mean.float(), (axes[:, order] * var[order].sqrt()).float()


class WhitenedDecoder(nn.Module):
    """The decoder of a whitened latent e: z = mean + basis @ e."""

    def __init__(self, decoder, mean, basis):
        super().__init__()
        self.decoder = decoder
        self.register_buffer("mean", mean)
        self.register_buffer("basis_t", basis.T.contiguous())

    def forward(self, e):
        return self.decoder(self.mean + e @ self.basis_t)


class WhitenedEncoder(nn.Module):
    """The encoder into the whitened latent: e = basis^-1 (mu - mean); the posterior's variance
    is carried over per dimension (the diagonal of basis^-1 diag(var) basis^-T)."""

    def __init__(self, encoder, mean, basis):
        super().__init__()
        self.encoder = encoder
        inv = torch.linalg.inv(basis.double())
        self.register_buffer("mean", mean)
        self.register_buffer("inv_t", inv.T.contiguous().float())
        self.register_buffer("inv_sq_t", (inv * inv).T.contiguous().float())

    def forward(self, pattern):
        mu, logvar = self.encoder(pattern)
        return (mu - self.mean) @ self.inv_t, torch.log(logvar.exp() @ self.inv_sq_t)
