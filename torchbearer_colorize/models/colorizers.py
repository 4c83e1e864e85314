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


class DeepColorizer(nn.Module):
    """Encoder of 5 convolutions (1->32->32->32->32->64), decoder of 5 transposed convolutions
    (64->32->32->32->32->3): the bottleneck shrinks to 64 x 8 x 8, which the report blames for blur."""

    def __init__(self, in_channels=1, out_channels=3):
        super().__init__()
        self.encoder = nn.Sequential(down(in_channels, 32), down(32, 32), down(32, 32), down(32, 32), down(32, 64))
        self.decoder = nn.Sequential(up(64, 32), up(32, 32), up(32, 32), up(32, 32), up(32, out_channels, last=True))

    def forward(self, x):
        return self.decoder(self.encoder(x))


class UNetColorizer(nn.Module):
    """The small colorizer plus the report's two additive skips, with its forward exactly as printed.

    The report uses one ``self.skip`` module for both skips (encoder 2 -> decoder 1 at 64 x 64,
    encoder 1 -> decoder 2 at 128 x 128); both carry 32 channels, so a shared 1x1 convolution fits.
    """

    def __init__(self, in_channels=1, out_channels=3):
        super().__init__()
        self.encoder_l1 = down(in_channels, 32)
        self.encoder_l2 = down(32, 32)
        self.encoder_l3 = down(32, 64)
        self.decoder_l1 = up(64, 32)
        self.decoder_l2 = up(32, 32)
        self.decoder_l3 = up(32, out_channels, last=True)
        self.skip = nn.Conv2d(32, 32, 1)

    def forward(self, x):
        x_e1 = self.encoder_l1(x)
        x_e2 = self.encoder_l2(x_e1)
        x_e3 = self.encoder_l3(x_e2)
        x_d1 = self.decoder_l1(x_e3)
        x_d1 = x_d1 + self.skip(x_e2)
        x_d2 = self.decoder_l2(x_d1)
        x_d2 = x_d2 + self.skip(x_e1)
        return self.decoder_l3(x_d2)
