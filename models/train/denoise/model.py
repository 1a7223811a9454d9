"""Intel Open Image Denoise's U-Net ("RT" filter), as its training code and C++ graph build it:
3x3 convolutions with ReLU (the last one too), 2x2 max pooling after enc_conv1..4, nearest 2x
upsampling, skip connections by channel concatenation (upsampled first, then the encoder's
pooled features; the last one takes the network input). Four poolings: sizes are multiples of 16.

Channel counts come from the weights, so OIDN's default and `small` networks (same layer names,
different widths) are the same class.
"""
import torch
import torch.nn.functional as F
from torch import nn

LAYERS = ["enc_conv0", "enc_conv1", "enc_conv2", "enc_conv3", "enc_conv4", "enc_conv5a", "enc_conv5b",
          "dec_conv4a", "dec_conv4b", "dec_conv3a", "dec_conv3b", "dec_conv2a", "dec_conv2b",
          "dec_conv1a", "dec_conv1b", "dec_conv0"]
SPATIAL_MULTIPLE = 16


class UNet(nn.Module):
    def __init__(self, shapes):
        """shapes: {layer: (out_channels, in_channels)} for every name in LAYERS."""
        super().__init__()
        for name in LAYERS:
            cout, cin = shapes[name]
            setattr(self, name, nn.Conv2d(cin, cout, 3, padding=1))

    @classmethod
    def from_oidn(cls, tensors):
        """A network holding OIDN's weights (a TZA's {name: array}), in float32."""
        net = cls({n: tensors[f"{n}.weight"].shape[:2] for n in LAYERS})
        state = {k: torch.from_numpy(v.astype("float32")) for k, v in tensors.items()}
        net.load_state_dict(state, strict=True)
        return net

    def forward(self, inp):
        def conv(name, x):
            return F.relu(getattr(self, name)(x))

        def pool(x):
            return F.max_pool2d(x, 2, 2)

        def up(x):
            return F.interpolate(x, scale_factor=2.0, mode="nearest")

        x = conv("enc_conv0", inp)
        pool1 = pool(conv("enc_conv1", x))
        pool2 = pool(conv("enc_conv2", pool1))
        pool3 = pool(conv("enc_conv3", pool2))
        x = pool(conv("enc_conv4", pool3))
        x = conv("enc_conv5b", conv("enc_conv5a", x))
        x = conv("dec_conv4b", conv("dec_conv4a", torch.cat([up(x), pool3], 1)))
        x = conv("dec_conv3b", conv("dec_conv3a", torch.cat([up(x), pool2], 1)))
        x = conv("dec_conv2b", conv("dec_conv2a", torch.cat([up(x), pool1], 1)))
        x = conv("dec_conv1b", conv("dec_conv1a", torch.cat([up(x), inp], 1)))
        return conv("dec_conv0", x)
