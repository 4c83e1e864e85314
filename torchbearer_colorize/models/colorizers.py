"""The report's colorizing autoencoders."""
from torch import nn


def down(c_in, c_out):
    """Halve the resolution: 4x4 kernel, stride 2, padding 1 (the report gives no kernel sizes)."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.ReLU(inplace=True))


def up(c_in, c_out, last=False):
    """Double the resolution; the last layer ends in a sigmoid since targets lie in [0, 1]."""
    return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1),
                         nn.Sigmoid() if last else nn.ReLU(inplace=True))


class SmallColorizer(nn.Module):
    """Encoder of 3 convolutions (32, 32, 64 channels), decoder of 3 transposed convolutions.

    256 x 256 x ``in_channels`` -> 64 x 32 x 32 bottleneck -> 256 x 256 x ``out_channels``.
    """

    def __init__(self, in_channels=1, out_channels=3):
        super().__init__()
        self.encoder = nn.Sequential(down(in_channels, 32), down(32, 32), down(32, 64))
        self.decoder = nn.Sequential(up(64, 32), up(32, 32), up(32, out_channels, last=True))

    def forward(self, x):
        return self.decoder(self.encoder(x))
