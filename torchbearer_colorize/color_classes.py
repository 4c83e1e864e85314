"""Colorization as per-pixel classification over quantized ab colours (Zhang, Isola & Efros 2016,
"Colorful Image Colorization"), the approach the report's question 2 describes but never built.

- CIE Lab (:mod:`.color_space`).
- ab quantized on a grid of step 10; the bins kept are the grid cells that some sRGB colour falls in
  (a 65^3 grid of 8-bit colours converted to Lab, its ab rounded to the grid): Q = 261.
- Targets: the ab of every 4th pixel (the pixel nearest each 4 x 4 block's centre) of the 256 x 256
  image, i.e. 64 x 64, stored float16; each is soft-encoded on the fly over its 5 nearest bins with
  a Gaussian of sigma 5 (weights summing to 1).
- Class rebalancing: the nearest bin's weight ``w = ((1 - lambda) p + lambda / Q)^-1``, lambda 0.5,
  ``p`` the training targets' nearest-bin distribution smoothed with a Gaussian of sigma 5 over the
  bin centres, ``w`` scaled so that ``sum_q p_q w_q = 1``.
- Decoding: the annealed mean, ``softmax(log p / T)`` with T = 0.38, then the mean of the bin
  centres; upsampled bilinearly to the input's size and joined with the input's lightness.
"""
import functools

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import Dataset

from .color_space import gray_lightness, lab_to_rgb, rgb_to_lab

STEP = 10.0  # ab grid step
SIGMA = 5.0  # soft-encoding Gaussian
NEIGHBOURS = 5  # bins each target is soft-encoded over
LAMBDA = 0.5  # rebalancing: mix of the empirical distribution and the uniform one
PRIOR_SIGMA = 5.0  # Gaussian smoothing of the empirical distribution
TEMPERATURE = 0.38  # annealed-mean decoding
AB_SCALE = 100.0  # the a*b* regressor's output scale (Lab units): ab of sRGB colours lie within about +-110
FACTOR = 4  # predictions and targets at 1/4 of the input's resolution (64 x 64 for 256 x 256)
OFFSET = FACTOR // 2  # the target pixel sampled in each 4 x 4 block (nearest its centre)
SETTINGS = {"space": "Lab D65/2 sRGB", "step": STEP, "gamut": "65^3 8-bit sRGB colours, ab rounded to the grid",
            "sigma": SIGMA, "neighbours": NEIGHBOURS, "lambda": LAMBDA, "prior_sigma": PRIOR_SIGMA,
            "factor": FACTOR, "offset": OFFSET, "target_dtype": "float16", "version": 1}

GAMUT_LEVELS = (*range(0, 256, 4), 255)  # 8-bit values sampled per RGB channel: 65^3 = 274,625 colours


@functools.lru_cache(maxsize=None)
def _bins(step):
    levels = torch.tensor(GAMUT_LEVELS, dtype=torch.float64) / 255
    rgb = torch.stack(torch.meshgrid(levels, levels, levels, indexing="ij")).reshape(1, 3, -1)
    cells = torch.round(rgb_to_lab(rgb)[0, 1:] / step).to(torch.int64)
    return cells.T.unique(dim=0).to(torch.float32) * step  # unique sorts the rows: by a, then b


def ab_bins(step=STEP):
    """The in-gamut ab bin centres, a Q x 2 float32 tensor sorted by (a, b): the grid points of step
    ``step`` whose cell (the ab values that round to them) holds the ab of a sampled sRGB colour
    (``GAMUT_LEVELS`` per channel). Q = 261 for step 10, the same bins as all 256^3 8-bit colours
    give (checked once; it takes minutes); the paper reports 313 for its gamut."""
    return _bins(float(step)).clone()


def soft_encode(ab, bins, neighbours=NEIGHBOURS, sigma=SIGMA):
    """Soft encoding of ab points (M x 2) over their ``neighbours`` nearest bins (Q x 2).

    Returns ``(indices, weights)``, both M x neighbours, nearest bin first; the weights are a
    Gaussian of the distance (``sigma``), normalised to sum to 1."""
    d2 = torch.cdist(ab.float(), bins.float(), compute_mode="donot_use_mm_for_euclid_dist") ** 2
    d2, indices = torch.topk(d2, neighbours, dim=1, largest=False, sorted=True)
    weights = torch.exp(-(d2 - d2[:, :1]) / (2 * sigma ** 2))  # relative to the nearest: no underflow to 0/0
    return indices, weights / weights.sum(dim=1, keepdim=True)


def nearest_bins(ab, bins, chunk=65536):
    """Index of the nearest bin of each ab point (M x 2), in chunks."""
    return torch.cat([torch.cdist(part.float(), bins.float()).argmin(dim=1) for part in ab.split(chunk)])


def bin_distribution(ab_maps, bins):
    """The empirical distribution (Q-vector, float64) of the nearest bins of all pixels of
    N x 2 x h x w ab maps."""
    points = ab_maps.permute(0, 2, 3, 1).reshape(-1, 2)
    counts = torch.bincount(nearest_bins(points, bins), minlength=len(bins)).double()
    return counts / counts.sum()


def smooth_distribution(p, bins, sigma=PRIOR_SIGMA):
    """``p`` smoothed by a Gaussian over the bin centres; each bin's mass is spread over the
    in-gamut bins only, so the result still sums to 1."""
    kernel = torch.exp(-torch.cdist(bins.double(), bins.double()) ** 2 / (2 * sigma ** 2))
    kernel = kernel / kernel.sum(dim=0, keepdim=True)  # column q': where bin q''s mass goes
    smooth = kernel @ p.double()
    return smooth / smooth.sum()


def rebalancing_weights(p, lam=LAMBDA):
    """``w = ((1 - lam) p + lam / Q)^-1``, scaled so that the expected weight under ``p`` is 1."""
    p = p.double()
    w = 1.0 / ((1 - lam) * p + lam / len(p))
    return (w / (p * w).sum()).float()


def annealed_mean(logits, bins, temperature=TEMPERATURE):
    """ab (N x 2 x h x w) from logits (N x Q x h x w): the mean of the bin centres under
    ``softmax(log p / T)``, p the predicted distribution (T = 1: the plain mean; T -> 0: the mode)."""
    annealed = torch.softmax(torch.log_softmax(logits.float(), dim=1) / temperature, dim=1)
    return torch.einsum("nqhw,qc->nchw", annealed, bins.to(annealed))


def ab_targets(color, factor=FACTOR, offset=OFFSET, chunk=64):
    """The 64 x 64 ab targets of N x 3 x 256 x 256 uint8 images: the Lab ab of the pixel at
    ``offset`` in every ``factor`` x ``factor`` block, an N x 2 x 64 x 64 float16 tensor."""
    parts = []
    for start in range(0, len(color), chunk):
        rgb = color[start:start + chunk, :, offset::factor, offset::factor].double() / 255
        parts.append(rgb_to_lab(rgb)[:, 1:].to(torch.float16))
    return torch.cat(parts)


class ColorClassDataset(Dataset):
    """Items ``(gray 1 x 256 x 256 float32, ab target 2 x 64 x 64 float16)``; the gray tensor is
    shared with the colorization data set, the targets take 16 KiB per image."""

    def __init__(self, gray, ab):
        if len(gray) != len(ab):
            raise ValueError(f"{len(gray)} gray images but {len(ab)} ab targets")
        self.gray, self.ab = gray, ab

    def __len__(self):
        return len(self.gray)

    def __getitem__(self, index):
        return self.gray[index], self.ab[index]


class RebalancedCrossEntropy(nn.Module):
    """The paper's loss: per target pixel, the cross-entropy between the soft-encoded target and the
    predicted distribution, times the rebalancing weight of the target's nearest bin; averaged over
    pixels and images (the paper sums; the mean only rescales it).

    Inputs: logits N x Q x h x w, ab targets N x 2 x h x w. The bins and weights are buffers that
    move to the logits' device on first use (torchbearer moves the model, not the criterion).
    """

    def __init__(self, bins, weights, neighbours=NEIGHBOURS, sigma=SIGMA):
        super().__init__()
        if len(bins) != len(weights):
            raise ValueError(f"{len(bins)} bins but {len(weights)} weights")
        self.register_buffer("bins", bins.float().clone())
        self.register_buffer("weights", weights.float().clone())
        self.neighbours, self.sigma = neighbours, sigma

    def forward(self, logits, target):
        if self.bins.device != logits.device:
            self.to(logits.device)
        n, q, h, w = logits.shape
        if q != len(self.bins) or target.shape != (n, 2, h, w):
            raise ValueError(f"logits {tuple(logits.shape)} and targets {tuple(target.shape)} do not fit "
                             f"{len(self.bins)} bins")
        points = target.float().permute(0, 2, 3, 1).reshape(-1, 2)
        indices, weights = soft_encode(points, self.bins, self.neighbours, self.sigma)
        log_p = torch.log_softmax(logits.float(), dim=1).permute(0, 2, 3, 1).reshape(-1, q)
        cross_entropy = -(weights * log_p.gather(1, indices)).sum(dim=1)
        return (self.weights[indices[:, 0]] * cross_entropy).mean()


class ABSquaredError(nn.Module):
    """The a*b* regression's L2 loss (the paper's Table 1 "L2" row): the squared ab error in Lab units, averaged
    over both channels, the 64 x 64 target pixels and the images."""

    def forward(self, ab, target):
        if ab.shape != target.shape:
            raise ValueError(f"predicted ab {tuple(ab.shape)} and targets {tuple(target.shape)} differ in shape")
        return F.mse_loss(ab.float(), target.float())


def decode_ab(gray, ab):
    """RGB in [0, 1] (N x 3 x H x W) from the gray input (N x 1 x H x W) and ab at any size:
    ab upsampled bilinearly to H x W, joined with the gray image's L."""
    ab = F.interpolate(ab.float(), size=gray.shape[2:], mode="bilinear", align_corners=False)
    return lab_to_rgb(torch.cat([gray_lightness(gray.float()), ab], dim=1))


def decode_rgb(gray, logits, bins, temperature=TEMPERATURE):
    """RGB in [0, 1] from the gray input and logits at 1/4 size: the annealed-mean ab, decoded by
    :func:`decode_ab`."""
    return decode_ab(gray, annealed_mean(logits, bins, temperature))
