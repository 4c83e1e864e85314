"""The color-classification colorizer (Zhang, Isola & Efros 2016) on the small colorizer's blocks, and the a*b*
regression it is compared with in the paper's ablation (its Table 1): the same blocks, the same 64 x 64 output
joined with the input's lightness, two channels instead of a distribution over the bins."""
import torch
from torch import nn

from ..color_classes import AB_SCALE, TEMPERATURE, ab_bins, decode_ab, decode_rgb
from .colorizers import down, up


def blocks(in_channels):
    """The small colorizer's encoder (down to 32 x 32 x 64) and its first decoder block (64 x 64 x 32)."""
    return nn.Sequential(down(in_channels, 32), down(32, 32), down(32, 64)), up(64, 32)


class ClassColorizer(nn.Module):
    """Gray 1 x 256 x 256 -> logits over ``n_bins`` ab bins at 64 x 64: the small colorizer's encoder
    (down to 32 x 32 x 64), its first decoder block (64 x 64 x 32) and a 1 x 1 convolution to the logits.
    The bin centres are a buffer, so a saved model decodes alone.
    """

    def __init__(self, n_bins=None, in_channels=1, temperature=TEMPERATURE):
        super().__init__()
        bins = ab_bins()
        if n_bins is not None and n_bins != len(bins):
            raise ValueError(f"n_bins {n_bins} does not match the {len(bins)} in-gamut ab bins")
        self.encoder, self.decoder = blocks(in_channels)
        self.classifier = nn.Conv2d(32, len(bins), 1)
        self.register_buffer("bins", bins)
        self.temperature = temperature

    def forward(self, x):
        return self.classifier(self.decoder(self.encoder(x)))

    @torch.no_grad()
    def predict_rgb(self, gray, temperature=None):
        """RGB in [0, 1] (N x 3 x H x W) of gray images (N x 1 x H x W in [0, 1]; 256 x 256 gives
        64 x 64 logits): the annealed-mean ab (T = ``temperature``, default 0.38), upsampled bilinearly,
        joined with the input's lightness. The result is on the input's device."""
        gray_on_device = gray.to(self.bins.device)
        rgb = decode_rgb(gray_on_device, self(gray_on_device), self.bins,
                         self.temperature if temperature is None else temperature)
        return rgb.to(gray.device)


class ABRegressor(nn.Module):
    """Gray 1 x 256 x 256 -> a*b* at 64 x 64 (Lab units): :class:`ClassColorizer`'s blocks, then a 1 x 1
    convolution to two channels, scaled by ``AB_SCALE`` (so that its initial outputs span the ab range's order)."""

    def __init__(self, in_channels=1):
        super().__init__()
        self.encoder, self.decoder = blocks(in_channels)
        self.regressor = nn.Conv2d(32, 2, 1)

    def forward(self, x):
        return AB_SCALE * self.regressor(self.decoder(self.encoder(x)))

    @torch.no_grad()
    def predict_rgb(self, gray):
        """RGB in [0, 1] of gray images (N x 1 x H x W): the predicted ab upsampled bilinearly, joined with the
        input's lightness (as :meth:`ClassColorizer.predict_rgb`). The result is on the input's device."""
        gray_on_device = gray.to(next(self.parameters()).device)
        return decode_ab(gray_on_device, self(gray_on_device)).to(gray.device)


class RGBPredictor(nn.Module):
    """A trained :class:`ClassColorizer` (or :class:`ABRegressor`) whose forward is ``predict_rgb`` (for sample
    grids)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, gray):
        return self.model.predict_rgb(gray)

