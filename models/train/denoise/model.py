"""A small U-Net in the spirit of Intel OIDN's: four 2x poolings (sizes must be multiples of 16),
3x3 convolutions with ReLU, nearest upsampling and skip connections by concatenation.

Narrower than OIDN's default network so it trains on two CPU cores in hours, not days.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

# channels per level: encoder, bottleneck, decoder
EC = (24, 32, 48, 64)
BOTTLENECK = 80
DC = (96, 64, 48)
DC1 = (32, 24)
SPATIAL_MULTIPLE = 16


def conv(cin, cout):
    return nn.Conv2d(cin, cout, 3, padding=1)


class UNet(nn.Module):
    def __init__(self, in_channels: int, out_channels: int = 3):
        super().__init__()
        self.enc_conv0 = conv(in_channels, EC[0])
        self.enc_conv1 = conv(EC[0], EC[0])      # -> pool1 (1/2)
        self.enc_conv2 = conv(EC[0], EC[1])      # -> pool2 (1/4)
        self.enc_conv3 = conv(EC[1], EC[2])      # -> pool3 (1/8)
        self.enc_conv4 = conv(EC[2], EC[3])      # -> pool4 (1/16)
        self.enc_conv5a = conv(EC[3], BOTTLENECK)
        self.enc_conv5b = conv(BOTTLENECK, BOTTLENECK)
        self.dec_conv4a = conv(BOTTLENECK + EC[2], DC[0])
        self.dec_conv4b = conv(DC[0], DC[0])
        self.dec_conv3a = conv(DC[0] + EC[1], DC[1])
        self.dec_conv3b = conv(DC[1], DC[1])
        self.dec_conv2a = conv(DC[1] + EC[0], DC[2])
        self.dec_conv2b = conv(DC[2], DC[2])
        self.dec_conv1a = conv(DC[2] + in_channels, DC1[0])
        self.dec_conv1b = conv(DC1[0], DC1[1])
        self.dec_conv0 = conv(DC1[1], out_channels)

    def forward(self, x):
        r = F.relu
        pool = lambda t: F.max_pool2d(t, 2)
        up = lambda t: F.interpolate(t, scale_factor=2.0, mode="nearest")
        inp = x
        x = r(self.enc_conv0(x))
        x = pool1 = pool(r(self.enc_conv1(x)))
        x = pool2 = pool(r(self.enc_conv2(x)))
        x = pool3 = pool(r(self.enc_conv3(x)))
        x = pool(r(self.enc_conv4(x)))
        x = r(self.enc_conv5b(r(self.enc_conv5a(x))))
        x = torch.cat([up(x), pool3], 1)
        x = r(self.dec_conv4b(r(self.dec_conv4a(x))))
        x = torch.cat([up(x), pool2], 1)
        x = r(self.dec_conv3b(r(self.dec_conv3a(x))))
        x = torch.cat([up(x), pool1], 1)
        x = r(self.dec_conv2b(r(self.dec_conv2a(x))))
        x = torch.cat([up(x), inp], 1)
        x = r(self.dec_conv1b(r(self.dec_conv1a(x))))
        return self.dec_conv0(x)
