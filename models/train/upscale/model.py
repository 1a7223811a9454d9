"""The upscaler: ESRGAN-style residual blocks at the input's resolution, two pixel-shuffle 2x
stages, and a fixed bilinear 4x of the input added to the result, so the network only learns the
detail bilinear misses (it starts as bilinear and learns fast). The critic that trains it is here
too.

Every convolution pads circularly once exported (`wrap()`): a tileable texture upscales to a
tileable texture. Training crops are not tileable, so training pads by reflection and the loss
leaves the crop's border out."""
import numpy as np
import torch
from torch import nn

import config


def bilinear_phases(scale):
    """3x3 kernels whose outputs, pixel-shuffled by `scale`, are the bilinear (half-pixel centres)
    upscale: phase (i, j) samples the input at offsets ((i + 0.5) / scale - 0.5, (j + ...))."""
    k = np.zeros((scale * scale, 3, 3), np.float32)
    for i in range(scale):
        for j in range(scale):
            w = []
            for p in (i, j):
                off = (p + 0.5) / scale - 0.5
                taps = np.zeros(3, np.float32)
                taps[1] = 1 - abs(off)
                taps[0 if off < 0 else 2] = abs(off)
                w.append(taps)
            k[i * scale + j] = np.outer(w[0], w[1])
    return torch.from_numpy(k)


class ResidualBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.a = nn.Conv2d(ch, ch, 3, padding=1, padding_mode="reflect")
        self.b = nn.Conv2d(ch, ch, 3, padding=1, padding_mode="reflect")
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x):
        return x + config.RES_SCALE * self.b(self.act(self.a(x)))


def conv(cin, cout):
    return nn.Conv2d(cin, cout, 3, padding=1, padding_mode="reflect")


class Upscaler(nn.Module):
    """sRGB colour in 0..1 (N x 3 x H x W) -> N x 3 x 4H x 4W (not clamped)."""

    def __init__(self, ch=config.CHANNELS, blocks=config.BLOCKS):
        super().__init__()
        s = config.SCALE
        self.head = conv(3, ch)
        self.body = nn.Sequential(*[ResidualBlock(ch) for _ in range(blocks)], conv(ch, ch))
        self.up1 = nn.Sequential(conv(ch, ch * 4), nn.PixelShuffle(2), nn.LeakyReLU(0.2))
        self.up2 = nn.Sequential(conv(ch, 3 * 4), nn.PixelShuffle(2))
        # Each colour channel to its scale² bilinear phases: fixed, not trained.
        self.base = nn.Conv2d(3, 3 * s * s, 3, padding=1, padding_mode="replicate", groups=3, bias=False)
        self.base.weight.data.copy_(bilinear_phases(s).repeat(3, 1, 1).unsqueeze(1))
        self.base.weight.requires_grad_(False)
        self.shuffle = nn.PixelShuffle(s)
        nn.init.zeros_(self.up2[0].weight)
        nn.init.zeros_(self.up2[0].bias)

    def forward(self, x):
        f = self.head(x)
        f = f + self.body(f)
        return self.shuffle(self.base(x)) + self.up2(self.up1(f))

    def wrap(self):
        """Circular padding in every convolution: for export and inference on textures."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                m.padding_mode = "circular"
        return self


class Critic(nn.Module):
    """A patch critic on 4x-resolution crops: one score per ~46-px window."""

    def __init__(self, ch=32):
        super().__init__()
        layers, cin = [], 3
        for cout, stride in ((ch, 1), (ch, 2), (ch * 2, 2), (ch * 4, 2), (ch * 4, 1)):
            layers += [nn.Conv2d(cin, cout, 3, stride, 1), nn.LeakyReLU(0.2)]
            cin = cout
        layers.append(nn.Conv2d(cin, 1, 3, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x * 2 - 1)
