"""The material network: a colour map in, height, tangent-space normal and roughness out.

A small U-Net (full, half and quarter resolution; dilated residual blocks at the bottom for a
receptive field of about 150 pixels) in which every convolution pads circularly: the whole image
is computed on a torus, so a tileable colour map gives tileable maps with no seam to hide. The
normal comes out as slopes, turned into a unit vector inside the graph, so it is a unit normal
whatever the weights; height is unscaled (the engine stretches it to 0..1).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

import config


def conv(cin, cout, stride=1, dilation=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, padding_mode="circular")


class Residual(nn.Module):
    def __init__(self, c, dilation=1):
        super().__init__()
        self.a, self.b = conv(c, c, dilation=dilation), conv(c, c)
        nn.init.zeros_(self.b.weight)   # each block starts as the identity
        nn.init.zeros_(self.b.bias)

    def forward(self, x):
        return x + self.b(F.silu(self.a(x)))


class MaterialNet(nn.Module):
    def __init__(self):
        super().__init__()
        c0, c1, c2 = config.CHANNELS
        self.stem = nn.Sequential(conv(3, c0), nn.SiLU(), Residual(c0))
        self.down1 = nn.Sequential(conv(c0, c1, stride=2), nn.SiLU(), Residual(c1))
        self.down2 = nn.Sequential(conv(c1, c2, stride=2), nn.SiLU(), *[Residual(c2, d) for d in config.DILATIONS])
        self.up1, self.dec1 = conv(c2, c1), Residual(c1)
        self.up0, self.dec0 = conv(c1, c0), Residual(c0)
        self.head = conv(c0, 4)

    def forward(self, colour):
        """colour: N x 3 x H x W sRGB in 0..1 (H, W multiples of config.MULTIPLE). Returns height
        (N x 1), unit normal, green up (N x 3, components in -1..1) and roughness (N x 1, 0..1)."""
        e0 = self.stem(colour * 2 - 1)
        e1 = self.down1(e0)
        x = self.down2(e1)
        x = self.dec1(F.silu(self.up1(F.interpolate(x, scale_factor=2.0, mode="nearest"))) + e1)
        x = self.dec0(F.silu(self.up0(F.interpolate(x, scale_factor=2.0, mode="nearest"))) + e0)
        out = self.head(x)
        height, slopes, rough = out[:, :1], out[:, 1:3], out[:, 3:]
        normal = torch.cat([slopes, torch.ones_like(height)], 1)
        normal = normal / torch.sqrt((normal * normal).sum(1, keepdim=True))
        return height, normal, torch.sigmoid(rough)
