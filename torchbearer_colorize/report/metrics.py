"""Colour metrics of predicted images against their targets: MSE, PSNR, SSIM, colourfulness, and the
Lab measures the report's claims about images are checked with (chroma, mean a* and b*, sharpness).

Images are float arrays in [0, 1], N x 3 x H x W (what the models output). Every metric is computed
per image and averaged over the images; predictions are clipped to [0, 1] first.

- PSNR and SSIM: ``skimage.metrics`` with ``data_range=1`` (SSIM over the colour channels with
  ``channel_axis``, skimage's default 7 x 7 window).
- Colourfulness: Hasler & Suesstrunk (2003), "Measuring colourfulness in natural images", on 0-255
  RGB with *signed* opponents rg = R - G and yb = (R + G) / 2 - B:
  ``sqrt(sd(rg)^2 + sd(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2)``. A gray image scores 0.
- In CIE Lab (D65, as ``skimage.color.rgb2lab``): ``chroma``, the mean of sqrt(a*^2 + b*^2) over the
  pixels; ``lab_a``/``lab_b``, the mean a* and b* (their angle is the image's mean hue, weighted by
  chroma); ``sharpness``, the mean gradient magnitude of L (finite differences, L units per pixel).
"""
import warnings

import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from torch.utils.data import DataLoader, Dataset

from ..losses import rgb_to_lab

METRICS = ("mse", "psnr", "ssim", "colourfulness", "chroma", "lab_a", "lab_b", "sharpness")


def complete(scores):
    """Whether stored ``scores`` hold every metric (older stored ones lack the Lab measures)."""
    return all(key in scores for key in METRICS)


def all_complete(named_scores):
    """``complete`` for each of a dict of stored scores ({"baseline": ..., "truth": ...})."""
    return all(map(complete, named_scores.values()))


def colourfulness(images):
    """Hasler-Suesstrunk colourfulness of each N x 3 x H x W image in [0, 1] (an N-vector)."""
    rgb = np.asarray(images, dtype=np.float64) * 255.0
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    rg, yb = r - g, 0.5 * (r + g) - b
    axes = (1, 2)
    spread = np.sqrt(rg.std(axis=axes) ** 2 + yb.std(axis=axes) ** 2)
    mean = np.sqrt(rg.mean(axis=axes) ** 2 + yb.mean(axis=axes) ** 2)
    return spread + 0.3 * mean


def lab_measures(images):
    """``{chroma, lab_a, lab_b, sharpness}``, each an N-vector, of N x 3 x H x W images in [0, 1]."""
    lab = rgb_to_lab(torch.from_numpy(np.asarray(images, dtype=np.float64))).numpy()
    lightness, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
    dx, dy = np.diff(lightness, axis=2)[:, :-1, :], np.diff(lightness, axis=1)[:, :, :-1]
    return {"chroma": np.hypot(a, b).mean(axis=(1, 2)), "lab_a": a.mean(axis=(1, 2)), "lab_b": b.mean(axis=(1, 2)),
            "sharpness": np.hypot(dx, dy).mean(axis=(1, 2))}


def per_image(predictions, targets):
    """``{metric: N-vector}`` for N x 3 x H x W predictions and targets in [0, 1]."""
    predictions = np.clip(np.asarray(predictions, dtype=np.float64), 0.0, 1.0)
    targets = np.asarray(targets, dtype=np.float64)
    if predictions.shape != targets.shape:
        raise ValueError(f"predictions {predictions.shape} and targets {targets.shape} differ in shape")
    mse = ((predictions - targets) ** 2).mean(axis=(1, 2, 3))
    with warnings.catch_warnings():  # an exact copy has infinite PSNR; numpy warns on the division
        warnings.simplefilter("ignore", RuntimeWarning)
        psnr = np.array([peak_signal_noise_ratio(t, p, data_range=1.0) for p, t in zip(predictions, targets)])
    ssim = np.array([structural_similarity(t, p, data_range=1.0, channel_axis=0)
                     for p, t in zip(predictions, targets)])
    return {"mse": mse, "psnr": psnr, "ssim": ssim, "colourfulness": colourfulness(predictions),
            **lab_measures(predictions)}


class MetricSums:
    """Running per-image sums, so a test set is scored batch by batch."""

    def __init__(self):
        self.sums = dict.fromkeys(METRICS, 0.0)
        self.count = 0

    def add(self, predictions, targets):
        for key, values in per_image(predictions, targets).items():
            self.sums[key] += float(values.sum())
        self.count += len(predictions)

    def means(self):
        if not self.count:
            raise ValueError("no images were scored")
        return {key: total / self.count for key, total in self.sums.items()}


def as_rgb(images):
    """A 1-channel batch copied to 3 channels (the gray-copy baseline); 3 channels pass through."""
    images = torch.as_tensor(images)
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


class TargetsAsInputs(Dataset):
    """``dataset``'s items as (target, target): scores the ground truth itself (its colourfulness)."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        target = self.dataset[index][1]
        return target, target


def evaluate(predict, dataset, batch_size=32):
    """Mean metrics of ``predict(inputs)`` over ``dataset`` of (input, target) pairs, where
    ``predict`` maps a batch of inputs to N x 3 x H x W images in [0, 1] (for the inception decoder
    the inputs are cached features; the targets are always the colour images)."""
    sums = MetricSums()
    with torch.no_grad():
        for inputs, targets in DataLoader(dataset, batch_size=batch_size):
            sums.add(predict(inputs).float().cpu().numpy(), targets.numpy())
    return sums.means()


def model_predictor(model, device="cpu"):
    """``predict(inputs)`` for :func:`evaluate`: the model in eval mode on ``device``, outputs on the CPU."""
    model = model.to(device).eval()
    return lambda inputs: model(inputs.to(device)).cpu()


def copy_input(inputs):
    """The baseline that learns nothing: the input itself as the prediction (gray copied to RGB)."""
    return as_rgb(inputs)

