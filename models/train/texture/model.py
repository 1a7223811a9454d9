"""The texture generator: a StyleGAN-shaped network that trains in minutes on one GPU.

Mapping network z + class -> w; a spatial latent grid (16 channels, one cell per 16 output pixels)
grown by 4 blocks of (nearest x2 upsampling, two modulated 3x3 convolutions with weight
demodulation, per-pixel noise); every convolution pads circularly, so an output tiles exactly and
one model makes any size. Nothing normalises over the image (demodulation instead of instance
norm): each output pixel depends only on nearby latent cells and noise, so large outputs can be
made in tiles that agree exactly. Coarse blocks take one style, fine blocks another (style mixing).
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

import config


def circular(x, pad):
    """Wrap-around padding written as slices and concatenations (exports to any ONNX opset)."""
    x = torch.cat([x[..., -pad:, :], x, x[..., :pad, :]], dim=2)
    return torch.cat([x[..., -pad:], x, x[..., :pad]], dim=3)


class Mapping(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(len(config.CLASSES), config.Z, bias=False)
        layers, d = [], 2 * config.Z
        for _ in range(4):
            layers += [nn.Linear(d, config.W), nn.LeakyReLU(0.2)]
            d = config.W
        self.net = nn.Sequential(*layers)

    def forward(self, z, onehot):
        z = z * torch.rsqrt(z.pow(2).mean(1, keepdim=True) + 1e-8)
        return self.net(torch.cat([z, self.embed(onehot)], 1))


class ModConv(nn.Module):
    """StyleGAN2's modulated convolution, unfused: scale inputs by the style, convolve with shared
    weights, demodulate the outputs. Same result as per-sample weights, plain Mul/Conv/Mul ops."""

    def __init__(self, cin, cout, k=3, demod=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.scale = 1 / math.sqrt(cin * k * k)
        self.affine = nn.Linear(config.W, cin)
        nn.init.ones_(self.affine.bias)
        self.bias = nn.Parameter(torch.zeros(cout))
        self.k, self.demod = k, demod

    def forward(self, x, w):
        s = self.affine(w)
        weight = self.weight * self.scale
        x = x * s[:, :, None, None]
        if self.k > 1:
            x = circular(x, self.k // 2)
        y = F.conv2d(x, weight)
        if self.demod:
            d = torch.rsqrt((s[:, None, :] ** 2 * weight.pow(2).sum((2, 3))[None]).sum(2) + 1e-8)
            y = y * d[:, :, None, None]
        return y + self.bias[None, :, None, None]


class Layer(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = ModConv(cin, cout)
        self.noise_strength = nn.Parameter(torch.zeros(1, cout, 1, 1))

    def forward(self, x, w, noise):
        return F.leaky_relu(self.conv(x, w) + self.noise_strength * noise, 0.2)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        ch = config.CHANNELS
        self.mapping = Mapping()
        self.stem = Layer(config.LATENT_CH, ch[0])
        self.blocks = nn.ModuleList()
        for cin, cout in zip(ch[:-1], ch[1:], strict=True):
            self.blocks.append(nn.ModuleList([Layer(cin, cout), Layer(cout, cout)]))
        self.to_rgb = ModConv(ch[-1], 3, k=1, demod=False)
        # Mean style per class, for truncation; set at export from many samples.
        self.register_buffer("w_avg", torch.zeros(len(config.CLASSES), config.W))

    def styles(self, z, onehot, truncation):
        w = self.mapping(z, onehot)
        avg = onehot @ self.w_avg
        return avg + truncation * (w - avg)

    def forward(self, latent, z_coarse, z_fine, onehot, truncation, noise):
        """latent: B x LATENT_CH x h x w; z_*: B x Z; onehot: B x classes; truncation: B x 1;
        noise: B x 1 x 16h x 16w. Returns B x 3 x 16h x 16w in [-1, 1]."""
        w_coarse = self.styles(z_coarse, onehot, truncation)
        w_fine = self.styles(z_fine, onehot, truncation)
        levels = len(self.blocks)

        def noise_at(level):
            # The one full-size noise map, averaged down to this level (and rescaled to unit variance).
            f = 2 ** (levels - level)
            return noise if f == 1 else F.avg_pool2d(noise, f) * f

        x = self.stem(latent, w_coarse, noise_at(0))
        for i, (a, b) in enumerate(self.blocks):
            w = w_coarse if i < config.COARSE_BLOCKS else w_fine
            x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = a(x, w, noise_at(i + 1))
            x = b(x, w, noise_at(i + 1))
        return torch.tanh(self.to_rgb(x, w_fine))


class Discriminator(nn.Module):
    """A small convolutional critic on crops, conditioned by projection on the class."""

    def __init__(self):
        super().__init__()
        ch = [3] + config.D_CHANNELS
        layers = []
        for cin, cout in zip(ch[:-1], ch[1:], strict=True):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(cout, cout, 4, 2, 1),
                       nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers)
        self.out = nn.Linear(ch[-1], 1)
        self.project = nn.Linear(len(config.CLASSES), ch[-1], bias=False)

    def forward(self, x, onehot):
        h = self.net(x).mean((2, 3))
        return self.out(h).squeeze(1) + (h * self.project(onehot)).sum(1)
