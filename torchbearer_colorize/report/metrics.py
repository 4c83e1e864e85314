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
  pixels; ``lab_l``/``lab_a``/``lab_b``, the mean L*, a* and b* (the angle of a*, b* is the mean hue,
  weighted by chroma); ``sharpness``, the mean gradient magnitude of L (finite differences, L units per
  pixel), which a transposed convolution's checkerboard raises; ``sharpness_half``, the same after
  averaging L over 2 x 2 blocks: blur lowers it, and any pattern that repeats every 2 pixels (the
  stride-2 checkerboard) averages out of it exactly; ``ab_sq_half``/``lab_sq_half``, the mean a*^2 + b*^2 and
  L*^2 after the same 2 x 2 averaging, from which ``means`` derives two measures over all pixels of all images:
  ``hue_spread``, the chroma-weighted circular standard deviation of the hue in degrees,
  sqrt(-2 ln R) with R = |mean (a*, b*)| / mean chroma (0 when one hue is everywhere, whatever its
  chroma; gray images, mean chroma below GRAY_CHROMA, have no hue: nan), and ``lab_spread`` = sqrt(var L* + var a* +
  var b*) at half resolution (0 for one flat colour everywhere, lightness included; a stride-2 checkerboard on a
  flat colour, invisible at a glance, does not count as spread).
- ``colour_explained``: how well each prediction's mean colour (a*, b*) matches its target's: 1 - the mean
  squared ab distance between the two / the variance of the targets' mean colours (1: every image's colour
  right; 0: no better than one colour for all; below 0: worse).
- ``restored_share``: where the inputs are images too (denoising), the share of the corrupted pixels (an input
  pixel more than CORRUPTED from its target in a channel) that the prediction brings back within RESTORED of
  the target in every channel; None (null) where no pixel is corrupted.
- ``tone_spread``: how much the images' tones differ (``tone`` and ``tone_spread`` below): one tone whatever
  each image's own colour is what MSE's "brown everywhere" looks like.
- ``mse_input_l``, ``psnr_input_l``, ``colourfulness_input_l``: the same measures of the prediction's colour on the
  input's lightness: its a*b* joined with the L of the gray input (``color_space.gray_lightness``; the gray input
  is ``rgb2gray`` of the target, as every colorization data set here makes it), as ``tbc-colorize`` and the colour
  classification decode. A model that redraws the lightness through a bottleneck is scored on its colour alone.
- ``auc``, ``auc_rebalanced``: Zhang, Isola & Efros (2016)'s AuC. The share of pixels (full resolution) whose
  a*b* error (L2 in the ab plane, the prediction's own ab against the truth's; below 0.01, float rounding, it
  counts as 0) is within a threshold, for the thresholds 0, 1, ..., AUC_MAX; the AuC is that curve's mean over
  them (the normalised area: the truth scores 1). Rebalanced: each pixel weighted by the inverse of its true
  colour's frequency over the scored images (its ab cell of step AB_CELL, the colour classification's bins), i.e.
  the mean of the curves of the colours present: a prediction that paints every image one common colour scores
  low on it.
- ``between_images``: how much the predictions differ from image to image: the variance of each pixel (RGB, in
  [0, 1]) over the scored images, averaged over the pixels (the truth's is the scale: a model that gives one
  picture whatever its input scores near 0).
"""
import math
import warnings

import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from torch.utils.data import DataLoader, Dataset

from ..color_space import gray_lightness, lab_to_rgb, rgb_to_lab

METRICS = ("mse", "psnr", "ssim", "colourfulness", "chroma", "lab_l", "lab_a", "lab_b", "sharpness",
           "sharpness_half", "ab_sq_half", "lab_sq_half", "tone_x", "tone_y", "toned", "colour_err_sq", "truth_a",
           "truth_b", "truth_ab_sq", "corrupted", "restored", "hue_spread", "lab_spread", "tone_spread", "tone_hue",
           "colour_explained", "restored_share", "mse_input_l", "psnr_input_l", "colourfulness_input_l", "auc",
           "auc_rebalanced", "between_images")
# computed from the means of the others over all images (or, the AuCs, from the pixels' counts), not per image
DERIVED = ("hue_spread", "lab_spread", "tone_spread", "tone_hue", "colour_explained", "restored_share", "auc",
           "auc_rebalanced", "between_images")
CORRUPTED, RESTORED = 0.2, 0.1  # an input pixel this far from its target (any channel) is corrupted; a prediction
#                                 this close (every channel) restores it
GRAY_CHROMA = 0.5  # mean chroma below this (a fifth of a just-noticeable Lab difference) is gray: no hue
TONE_CHROMA = 5.0  # a pixel (at half resolution) counts towards its image's tone from this chroma up
AUC_MAX = 150  # the AuC's largest ab-error threshold (Zhang et al. 2016)
AB_CELL = 10.0  # the rebalanced AuC's colour classes: ab cells of this step
CELLS = 33  # per ab axis: cells -16 .. 16 (sRGB's ab lie within about +-110)


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


def gradient(lightness):
    """Mean gradient magnitude (finite differences) of each of N x H x W lightness images (an N-vector)."""
    dx, dy = np.diff(lightness, axis=2)[:, :-1, :], np.diff(lightness, axis=1)[:, :, :-1]
    return np.hypot(dx, dy).mean(axis=(1, 2))


def half_resolution(lightness):
    """N x H x W images averaged over 2 x 2 blocks (an odd last row or column dropped)."""
    n, h, w = lightness.shape
    blocks = lightness[:, :h - h % 2, :w - w % 2].reshape(n, h // 2, 2, w // 2, 2)
    return blocks.mean(axis=(2, 4))


def tone(a, b):
    """Each image's tone: the direction (cos, sin) of the sum of its (a*, b*) vectors at half resolution over the
    pixels of chroma at least TONE_CHROMA (its chroma-weighted mean hue), and whether it has one (1 or 0: an
    image with no such pixel has no visible colour, hence no tone). Half resolution averages a stride-2
    checkerboard out; the chroma floor keeps near-gray pixels' hue noise (tinted shadows) out."""
    a, b = half_resolution(a), half_resolution(b)
    keep = np.hypot(a, b) >= TONE_CHROMA
    x, y = (np.where(keep, channel, 0.0).sum(axis=(1, 2)) for channel in (a, b))
    length = np.hypot(x, y)
    toned = length > 0
    safe = np.where(toned, length, 1.0)
    return {"tone_x": np.where(toned, x / safe, 0.0), "tone_y": np.where(toned, y / safe, 0.0),
            "toned": toned.astype(np.float64)}


def ab_error_counts(lab, truth_lab):
    """``counts[i, cell * (AUC_MAX + 2) + k]``: image i's pixels whose true colour lies in ab cell ``cell`` and whose
    ab error rounds up to k (k = AUC_MAX + 1: above AUC_MAX); the AuCs are read from their sums (:func:`aucs`)."""
    error = np.hypot(lab[:, 1] - truth_lab[:, 1], lab[:, 2] - truth_lab[:, 2])
    k = np.clip(np.ceil(error - 0.01), 0, AUC_MAX + 1).astype(np.int64)  # float rounding (< 0.01) is no error
    a, b = (np.clip(np.round(truth_lab[:, c] / AB_CELL), -(CELLS // 2), CELLS // 2).astype(np.int64) + CELLS // 2
            for c in (1, 2))
    index = (a * CELLS + b) * (AUC_MAX + 2) + k
    size = CELLS * CELLS * (AUC_MAX + 2)
    return np.stack([np.bincount(row.ravel(), minlength=size) for row in index])


def aucs(counts):
    """``auc`` and ``auc_rebalanced`` (module docstring) from the summed :func:`ab_error_counts` of all images."""
    per_cell = counts.reshape(CELLS * CELLS, AUC_MAX + 2).astype(np.float64)
    within = np.cumsum(per_cell, axis=1)[:, :AUC_MAX + 1]  # pixels within each threshold 0 .. AUC_MAX
    totals = per_cell.sum(axis=1)

    def area(curve):  # the normalised area: the curve's mean over the thresholds 0, 1, ..., AUC_MAX
        return float(curve.mean())
    present = totals > 0
    if not present.any():
        return {"auc": math.nan, "auc_rebalanced": math.nan}
    return {"auc": area(within.sum(axis=0) / totals.sum()),
            "auc_rebalanced": area((within[present] / totals[present, None]).mean(axis=0))}


def on_input_lightness(lab, targets):
    """RGB (N x 3 x H x W, [0, 1]) of predictions' Lab ``lab`` with its L replaced by that of the gray input,
    ``rgb2gray`` of the targets (module docstring)."""
    gray = np.tensordot(np.array([0.2125, 0.7154, 0.0721]), targets, axes=([0], [1]))[:, None]
    joined = torch.from_numpy(lab.copy())
    joined[:, :1] = gray_lightness(torch.from_numpy(gray))
    return lab_to_rgb(joined).numpy()


def lab_measures(images, lab=None):
    """The Lab measures (module docstring), each an N-vector, of N x 3 x H x W images in [0, 1] (``lab``: their
    Lab, when already converted)."""
    if lab is None:
        lab = rgb_to_lab(torch.from_numpy(np.asarray(images, dtype=np.float64))).numpy()
    lightness, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
    mean = lambda x: x.mean(axis=(1, 2))  # noqa: E731
    half_l, half_a, half_b = (half_resolution(channel) for channel in (lightness, a, b))
    return {"chroma": mean(np.hypot(a, b)), "lab_l": mean(lightness), "lab_a": mean(a), "lab_b": mean(b),
            "sharpness": gradient(lightness), "sharpness_half": gradient(half_l),
            "ab_sq_half": mean(half_a ** 2 + half_b ** 2), "lab_sq_half": mean(half_l ** 2), **tone(a, b)}


def spreads(means):
    """``hue_spread`` and ``lab_spread`` (module docstring) from the means over images of the per-image
    measures: every image has the same pixel count, so the mean over images is the mean over all pixels."""
    resultant = math.hypot(means["lab_a"], means["lab_b"]) / means["chroma"] if means["chroma"] > GRAY_CHROMA else None
    hue = math.nan if resultant is None else math.degrees(math.sqrt(-2 * math.log(min(max(resultant, 1e-12), 1.0))))
    # at half resolution: the 2 x 2 averages keep the means (lab_a, lab_b, lab_l) and drop a checkerboard's spread
    var = means["ab_sq_half"] - means["lab_a"] ** 2 - means["lab_b"] ** 2 + means["lab_sq_half"] - means["lab_l"] ** 2
    spread = means["truth_ab_sq"] - means["truth_a"] ** 2 - means["truth_b"] ** 2  # of the images' mean colours
    explained = 1 - means["colour_err_sq"] / spread if spread > 0 else math.nan
    return {"hue_spread": hue, "lab_spread": math.sqrt(max(var, 0.0)), **tone_spread(means),
            "colour_explained": explained,
            "restored_share": means["restored"] / means["corrupted"] if means["corrupted"] else None}


def tone_spread(means):
    """``tone_spread``: the angular deviation over the images of their tones, sqrt(2 (1 - R)) in degrees with R the
    length of their mean unit vector, each image counting once whatever its amount of colour (0: every image has
    the same tone; at most 162, tones all round the circle); ``tone_hue``: the mean tone's hue angle (degrees).
    Both nan when no image has a tone."""
    if means["toned"] <= 0:
        return {"tone_spread": math.nan, "tone_hue": math.nan}
    resultant = min(math.hypot(means["tone_x"], means["tone_y"]) / means["toned"], 1.0)
    return {"tone_spread": math.degrees(math.sqrt(2 * (1 - resultant))),
            "tone_hue": math.degrees(math.atan2(means["tone_y"], means["tone_x"]))}


def per_image(predictions, targets, inputs=None):
    """``{metric: N-vector}`` for N x 3 x H x W predictions and targets in [0, 1] (and the inputs, where they
    are images of the targets' shape: the corrupted pixels and how many the predictions restore)."""
    predictions = np.clip(np.asarray(predictions, dtype=np.float64), 0.0, 1.0)
    targets = np.asarray(targets, dtype=np.float64)
    if predictions.shape != targets.shape:
        raise ValueError(f"predictions {predictions.shape} and targets {targets.shape} differ in shape")
    corrupted = restored = np.zeros(len(targets))
    if inputs is not None and np.shape(inputs) == targets.shape:
        bad = (np.abs(np.asarray(inputs, dtype=np.float64) - targets) > CORRUPTED).any(axis=1)
        fixed = (np.abs(predictions - targets) <= RESTORED).all(axis=1)
        corrupted, restored = bad.sum(axis=(1, 2)), (bad & fixed).sum(axis=(1, 2))
    ssim = np.array([structural_similarity(t, p, data_range=1.0, channel_axis=0)
                     for p, t in zip(predictions, targets)])
    lab, truth_lab = (rgb_to_lab(torch.from_numpy(images)).numpy() for images in (predictions, targets))
    measures = lab_measures(predictions, lab)
    recoloured = on_input_lightness(lab, targets)
    truth = truth_lab.mean(axis=(2, 3))  # each image's mean L*, a*, b*
    error = (measures["lab_a"] - truth[:, 1]) ** 2 + (measures["lab_b"] - truth[:, 2]) ** 2
    mse, psnr = mse_psnr(predictions, targets)
    mse_input_l, psnr_input_l = mse_psnr(recoloured, targets)
    return {"mse": mse, "psnr": psnr, "ssim": ssim, "colourfulness": colourfulness(predictions), **measures,
            "colour_err_sq": error, "truth_a": truth[:, 1], "truth_b": truth[:, 2],
            "truth_ab_sq": truth[:, 1] ** 2 + truth[:, 2] ** 2, "corrupted": corrupted, "restored": restored,
            "mse_input_l": mse_input_l, "psnr_input_l": psnr_input_l,
            "colourfulness_input_l": colourfulness(recoloured), "ab_counts": ab_error_counts(lab, truth_lab),
            "pixels": predictions}


def mse_psnr(predictions, targets):
    """Each image's MSE and PSNR (dB, data range 1; an exact copy's is infinite)."""
    mse = ((predictions - targets) ** 2).mean(axis=(1, 2, 3))
    with warnings.catch_warnings():  # an exact copy has infinite PSNR; numpy warns on the division
        warnings.simplefilter("ignore", RuntimeWarning)
        psnr = np.array([peak_signal_noise_ratio(t, p, data_range=1.0) for p, t in zip(predictions, targets)])
    return mse, psnr


class MetricSums:
    """Running per-image sums, so a test set is scored batch by batch."""

    def __init__(self):
        self.sums = dict.fromkeys((key for key in METRICS if key not in DERIVED), 0.0)
        self.count, self.ab_counts, self.pixels, self.squares = 0, 0, 0, 0

    def add(self, values):
        """``values``: :func:`per_image`'s ``{metric: vector}`` for some images (and their AuC counts and pixels)."""
        for key, vector in values.items():
            if key == "ab_counts":
                self.ab_counts = self.ab_counts + vector.sum(axis=0)
            elif key == "pixels":
                self.pixels, self.squares = self.pixels + vector.sum(axis=0), self.squares + (vector ** 2).sum(axis=0)
            else:
                self.sums[key] += float(vector.sum())
        self.count += len(values["mse"])

    def means(self):
        if not self.count:
            raise ValueError("no images were scored")
        means = {key: total / self.count for key, total in self.sums.items()}
        between = float(np.mean(self.squares / self.count - (self.pixels / self.count) ** 2))
        return {**means, **spreads(means), **aucs(self.ab_counts), "between_images": between}


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


def evaluate(predict, dataset, groups=None, batch_size=32):
    """Mean metrics of ``predict(inputs)`` over ``dataset`` of (input, target) pairs, where
    ``predict`` maps a batch of inputs to N x 3 x H x W images in [0, 1] (for the inception decoder
    the inputs are cached features; the targets are always the colour images). Given ``groups``
    (``{name: indices}``, e.g. the test paintings of each painter), also ``"groups"``: the same means over
    each, from the same pass."""
    total, by_group = MetricSums(), {name: MetricSums() for name in groups or {}}
    group_of = {index: name for name, indices in (groups or {}).items() for index in indices}
    start = 0
    with torch.no_grad():
        for inputs, targets in DataLoader(dataset, batch_size=batch_size):
            images = inputs.numpy() if torch.is_tensor(inputs) else None  # the oracle's inputs are a tuple
            values = per_image(predict(inputs).float().cpu().numpy(), targets.numpy(), images)
            total.add(values)
            for name, sums in by_group.items():
                rows = [i for i in range(len(targets)) if group_of.get(start + i) == name]
                if rows:
                    sums.add({key: vector[rows] for key, vector in values.items()})
            start += len(targets)
    scores = total.means()
    if groups:
        scores["groups"] = {name: sums.means() for name, sums in by_group.items()}
    return scores


def has_groups(groups):
    """A ``current`` test for stored scores: complete, and holding each of ``groups`` when there are any."""
    return lambda scores: complete(scores) and (not groups or set(scores.get("groups", ())) == set(groups))


def model_predictor(model, device="cpu"):
    """``predict(inputs)`` for :func:`evaluate`: the model in eval mode on ``device``, outputs on the CPU."""
    model = model.to(device).eval()
    return lambda inputs: model(inputs.to(device)).cpu()


def copy_input(inputs):
    """The baseline that learns nothing: the input itself as the prediction (gray copied to RGB)."""
    return as_rgb(inputs)

