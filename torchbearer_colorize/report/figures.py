"""Loss curves and sample grids, written atomically as PNG.

Each PNG carries a key: a digest of what it is drawn from (the numbers it plots, its title, the model and data
behind its pictures) and of this module's code. A figure whose file already carries its key is not drawn again,
so regenerating from stored runs redraws only what changed (delete a PNG to have it drawn anew)."""
import hashlib
import io
import json
import math
import re
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import ticker  # noqa: E402
from PIL import Image  # noqa: E402

import torch  # noqa: E402

from ..atomic import atomic_path  # noqa: E402
from ..color_space import lab_to_rgb  # noqa: E402

# Another CPU's float kernels round a few model outputs differently: a sample grid redrawn there differs from
# the committed one by a level or two in a handful of pixels. Pictures within this are the same picture.
MAX_LEVELS = 4  # no pixel channel further apart than this, of 255
MAX_SHARE = 0.001  # and at most this share of pixel channels apart at all


def same_picture(png, other_png):
    """Whether two PNG files (bytes) decode to the same size and pixels within MAX_LEVELS and MAX_SHARE."""
    if png == other_png:
        return True
    a, b = (np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"), dtype=np.int16) for data in (png, other_png))
    if a.shape != b.shape:
        return False
    apart = np.abs(a - b)
    return int(apart.max()) <= MAX_LEVELS and np.count_nonzero(apart) <= MAX_SHARE * apart.size


KEY = "torchbearer-colorize key"  # the PNG text chunk that holds a figure's key
CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()  # a change to the drawing code redraws every figure


def figure_key(*inputs):
    """A figure's key: a digest of ``inputs`` (JSON: numbers, titles, :func:`model_digest`) and of this module."""
    text = json.dumps([CODE, *inputs], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def model_digest(model):
    """A digest of ``model``'s parameters and buffers, to key the figures drawn from its outputs: unlike the
    outputs themselves (rounded differently by another CPU's kernels), the same stored weights on any CPU."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:32]


def drawn(path, key):
    """Whether ``path`` holds the figure of ``key`` already."""
    try:
        with Image.open(path) as image:
            return getattr(image, "text", {}).get(KEY) == key
    except (OSError, SyntaxError, ValueError):  # absent or not an image
        return False


def _save(fig, path, key):
    """Write ``fig`` to ``path`` with its ``key`` (the drawing functions return before drawing when the file
    has it already: a rerun that only reuses stored runs leaves every figure as it is, on any CPU)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight", metadata={KEY: key})
    plt.close(fig)


PLAIN = ticker.FuncFormatter(lambda value, _: f"{value:,.0f}" if value >= 1000 else f"{value:.3g}")  # 0.015,
#                                                                          2.1, 20,000: no "2.125x10^0" nor "2e+04"


def _plain_log_ticks(axis, values):
    """Plain-number labels on a log ``axis``; within less than two decades the in-between ticks (2, 3, 5
    times a power of ten) are labelled too, so a narrow range still has several labelled ticks."""
    axis.set_major_formatter(PLAIN)
    finite = [x for x in values if x > 0 and math.isfinite(x)]
    decades = math.log10(max(finite) / min(finite)) if finite else math.inf
    if decades < 2:  # within a decade more multiples are labelled, so that the lowest values sit above a label
        axis.set_minor_locator(ticker.LogLocator(subs=(1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8) if decades < 1 else (2, 3, 5)))
        axis.set_minor_formatter(PLAIN)
    else:
        axis.set_minor_formatter(ticker.NullFormatter())


def _epoch_axes(ax, title, ylabel="MSE loss", values=(), log=True):
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    epochs = sorted({x for line in ax.get_lines() for x in line.get_xdata()})
    if len(epochs) > 1:
        if log:
            ax.set_yscale("log")
            _plain_log_ticks(ax.yaxis, values)
        ax.tick_params(axis="y", which="both", labelsize=8)  # major and minor labels in one size
        ax.xaxis.get_major_locator().set_params(integer=True)
    else:  # one epoch (--quick): points on a linear axis from 0, not a curve on a log axis of +-4 % around them
        heights = [y for line in ax.get_lines() for y in line.get_ydata() if np.isfinite(y)]
        ax.set_ylim(0, 1.6 * max(heights, default=0) or 1)  # room for the legend
        ax.set_xticks(epochs)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)


STYLES = [dict(marker=m, linestyle=ls, markersize=ms, markerfacecolor=face)
          for m, ls, ms, face in (("o", "-", 7, None), ("s", "--", 9, "none"), ("^", ":", 6, None),
                                  ("D", "-.", 8, "none"), ("v", "-", 6, None), ("x", "--", 8, None))]


def loss_curve(path, result, title, metrics=(("loss", "MSE loss"),), report_steps=None, reference=None):
    """Train and test curves per epoch of one run: one panel per ``(metric, axis label)``, the title above them
    all. Given the report's optimizer steps per epoch (``report_steps``), a second axis on top counts the report's
    epochs: the same number of optimizer steps as ours on its larger data set. ``reference``: ``(label, value)``
    drawn as a dashed line on the first panel (the gray copy's test MSE)."""
    history = result["history"]
    key = figure_key("loss_curve", history, result["n_train"], result["settings"]["batch_size"], title, metrics,
                     report_steps, reference)
    if drawn(path, key):
        return
    epochs = [e["epoch"] for e in history]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    ours = -(-result["n_train"] // result["settings"]["batch_size"])  # steps per epoch, the last batch partial
    for i, (ax, (metric, label)) in enumerate(zip(axes[0], metrics)):
        train, test = [e[f"train_{metric}"] for e in history], [e[f"test_{metric}"] for e in history]
        ax.plot(epochs, train, "o-", label="train (epoch mean)")
        ax.plot(epochs, test, "s-", label="test (after the epoch)")
        drawn_line = reference and i == 0
        _epoch_axes(ax, title if len(metrics) == 1 else label, label, train + test + ([reference[1]] if drawn_line
                                                                                      else []))
        if drawn_line:  # after the axes are set from the curves' epochs
            ax.axhline(reference[1], color="gray", linestyle="--", label=reference[0])
        if report_steps and report_steps != ours:
            scale = ours / report_steps
            top = ax.secondary_xaxis("top", functions=(lambda x: x * scale, lambda x: x / scale))
            top.set_xlabel(f"the report's epochs, by optimizer steps ({report_steps} an epoch there, {ours} here)",
                           fontsize=8)
            top.tick_params(labelsize=8)
        ax.legend(fontsize=8)
    if len(metrics) > 1:  # one title over the panels: a title per panel would run into the next one's
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path, key)


def histograms(path, panels, title, source):
    """``panels`` is a list of ``(name, values N x D)``: one row of D per-dimension histograms each, the
    x axis labelled with the panel's name (the value), the first column's y axis with the count. ``panels`` may
    be a function that returns them, called only when the figure is drawn; ``source`` keys it (as in
    :func:`sample_grid`)."""
    key = figure_key("histograms", title, source)
    if drawn(path, key):
        return
    panels = panels() if callable(panels) else panels
    dims = panels[0][1].shape[1]
    fig, axes = plt.subplots(len(panels), dims, figsize=(2.4 * dims, 2.2 * len(panels)), squeeze=False)
    for r, (name, values) in enumerate(panels):
        for d in range(dims):
            axes[r][d].hist(values[:, d], bins=30, color=f"C{r}")
            axes[r][d].set_title(f"{name}[{d}]", fontsize=9)
            axes[r][d].set_xlabel(f"{name} value", fontsize=8)
            axes[r][d].tick_params(labelsize=7)
        axes[r][0].set_ylabel("test images", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path, key)


def overlay(path, results, title, ylabel="test MSE loss"):
    """The test-loss curves of all runs of an experiment: as they are (left), and each as a share of its first
    epoch's (right, linear), where a slow fall shows even beside a run ten times lower."""
    key = figure_key("overlay", [(r["run"], r["status"], r["history"]) for r in results], title, ylabel)
    if drawn(path, key):
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    values, shares = [], []
    for result, style in zip(results, STYLES * len(results)):  # markers and dashes: a line under another shows
        label = result["run"] if result["status"] == "finished" else f"{result['run']} ({result['status']})"
        epochs, losses = [e["epoch"] for e in result["history"]], [e["test_loss"] for e in result["history"]]
        values += losses
        relative = [x / losses[0] if losses[0] else math.nan for x in losses]
        shares += relative
        axes[0].plot(epochs, losses, label=label, **style)
        axes[1].plot(epochs, relative, label=label, **style)
    _epoch_axes(axes[0], title, ylabel, values)
    _epoch_axes(axes[1], "each run's test loss as a share of its first epoch's", "share of epoch 1's", shares,
                log=False)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path, key)


def loss_vs_lr(path, points, title, ylabel="final test MSE loss"):
    """``points`` maps each learning rate to its final test losses, one per seed: every seed's point is
    drawn (the spread shows), their mean joined by a line; log-log."""
    key = figure_key("loss_vs_lr", sorted(points.items()), title, ylabel)
    if drawn(path, key):
        return
    lrs = sorted(points)
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for i, lr in enumerate(lrs):
        ax.scatter([lr] * len(points[lr]), points[lr], color="C0", alpha=0.6, s=28,
                   label="each seed" if i == 0 else None, zorder=3)
    ax.plot(lrs, [float(np.mean(points[lr])) for lr in lrs], "k-", marker="_", markersize=14,
            label=f"mean over {max(map(len, points.values()))} seed(s)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(lrs)
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    _plain_log_ticks(ax.yaxis, [x for losses in points.values() for x in losses])
    ax.tick_params(axis="y", which="minor", labelsize=7)
    ax.set_xlabel("learning rate")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path, key)


def sample_grid(path, rows, title, source, columns=None):
    """``rows`` is a list of ``(label, images)``; images are N x C x H x W floats in [0, 1]. ``source`` says
    what the images come from, to key the figure: for a model's outputs, its :func:`model_digest` and the data's
    fingerprint, not the outputs. ``rows`` and ``title`` may be functions, called only when the figure is drawn
    (a title computed from the images: ``source`` then holds what it is computed from). ``columns``: a label over
    each column (a traversal's latent values)."""
    key = figure_key("sample_grid", None if callable(title) else title, source, *([columns] if columns else []))
    if drawn(path, key):
        return
    rows, title = (value() if callable(value) else value for value in (rows, title))
    n = len(rows[0][1])
    fig, axes = plt.subplots(len(rows), n, figsize=(1.6 * n, 1.7 * len(rows)), squeeze=False)
    for r, (label, images) in enumerate(rows):
        for c in range(n):
            ax = axes[r][c]
            img = np.clip(np.asarray(images[c], dtype=np.float32), 0, 1).transpose(1, 2, 0)
            ax.imshow(img[..., 0] if img.shape[2] == 1 else img, cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:  # wrapped, so long labels do not run into the next row's
                ax.set_ylabel("\n".join(textwrap.wrap(label, 16, break_long_words=False)) or label, fontsize=8)
            if r == 0 and columns:
                ax.set_title(columns[c], fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path, key)


def tone_swatches(path, swatches, title):
    """One square per ``(label, hue in degrees)``, each filled with that hue at a middling lightness and chroma
    (L* 55, chroma 35): the tones a verdict names, side by side with the edges of its window."""
    key = figure_key("tone_swatches", swatches, title)
    if drawn(path, key):
        return
    angles = torch.tensor([math.radians(h) for _, h in swatches], dtype=torch.float64)
    lab = torch.stack([torch.full_like(angles, 55.0), 35 * angles.cos(), 35 * angles.sin()])[None, :, :, None]
    rgb = lab_to_rgb(lab)[0, :, :, 0].T.numpy()
    fig, axes = plt.subplots(1, len(swatches), figsize=(1.45 * len(swatches), 1.9), squeeze=False)
    for ax, (label, hue), colour in zip(axes[0], swatches, rgb):
        ax.imshow(np.ones((8, 8, 3)) * colour)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title("\n".join(textwrap.wrap(f"{label}: {hue:.0f} deg", 18)), fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    _save(fig, path, key)


def slug(name):
    """A run's name as a file-name stem (``lr 0.001`` -> ``lr_0.001``)."""
    return re.sub(r"[^A-Za-z0-9.]+", "_", name).strip("_")
