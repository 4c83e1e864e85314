"""Loss curves and sample grids, written atomically as PNG."""
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..atomic import atomic_path  # noqa: E402


def _save(fig, path):
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def _epoch_axes(ax, title, ylabel="MSE loss"):
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    epochs = sorted({x for line in ax.get_lines() for x in line.get_xdata()})
    if len(epochs) > 1:
        ax.set_yscale("log")
        ax.xaxis.get_major_locator().set_params(integer=True)
    else:  # one epoch (--quick): points on a linear axis from 0, not a curve on a log axis of +-4 % around them
        heights = [y for line in ax.get_lines() for y in line.get_ydata() if np.isfinite(y)]
        ax.set_ylim(0, 1.6 * max(heights, default=0) or 1)  # room for the legend
        ax.set_xticks(epochs)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)


def loss_curve(path, result, title, metrics=(("loss", "MSE loss"),)):
    """Train and test curves per epoch of one run: one panel per ``(metric, axis label)``."""
    history = result["history"]
    epochs = [e["epoch"] for e in history]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    for ax, (metric, label) in zip(axes[0], metrics):
        ax.plot(epochs, [e[f"train_{metric}"] for e in history], "o-", label="train (epoch mean)")
        ax.plot(epochs, [e[f"test_{metric}"] for e in history], "s-", label="test (after the epoch)")
        _epoch_axes(ax, title if len(metrics) == 1 else f"{label}\n{title}", label)
        ax.legend()
    fig.tight_layout()
    _save(fig, path)


def histograms(path, panels, title):
    """``panels`` is a list of ``(name, values N x D)``: one row of D per-dimension histograms each."""
    dims = panels[0][1].shape[1]
    fig, axes = plt.subplots(len(panels), dims, figsize=(2.4 * dims, 2.2 * len(panels)), squeeze=False)
    for r, (name, values) in enumerate(panels):
        for d in range(dims):
            axes[r][d].hist(values[:, d], bins=30, color=f"C{r}")
            axes[r][d].set_title(f"{name}[{d}]", fontsize=9)
            axes[r][d].tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def overlay(path, results, title, ylabel="test MSE loss"):
    """The test-loss curves of all runs of an experiment on one plot."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for result in results:
        label = result["run"] if result["status"] == "finished" else f"{result['run']} ({result['status']})"
        ax.plot([e["epoch"] for e in result["history"]], [e["test_loss"] for e in result["history"]], "o-", label=label)
    _epoch_axes(ax, title, ylabel)
    ax.legend(fontsize=8)
    _save(fig, path)


def sample_grid(path, rows, title):
    """``rows`` is a list of ``(label, images)``; images are N x C x H x W floats in [0, 1]."""
    n = len(rows[0][1])
    fig, axes = plt.subplots(len(rows), n, figsize=(1.6 * n, 1.7 * len(rows)), squeeze=False)
    for r, (label, images) in enumerate(rows):
        for c in range(n):
            ax = axes[r][c]
            img = np.clip(np.asarray(images[c], dtype=np.float32), 0, 1).transpose(1, 2, 0)
            ax.imshow(img[..., 0] if img.shape[2] == 1 else img, cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label, fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def slug(name):
    """A run's name as a file-name stem (``lr 0.001`` -> ``lr_0.001``)."""
    return re.sub(r"[^A-Za-z0-9.]+", "_", name).strip("_")
