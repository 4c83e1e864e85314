"""Loss curves and sample grids, written atomically as PNG."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .atomic import atomic_path  # noqa: E402


def _save(fig, path):
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def _epoch_axes(ax, title):
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE loss")
    ax.set_yscale("log")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.xaxis.get_major_locator().set_params(integer=True)


def loss_curve(path, result, title):
    """Train and test loss per epoch of one run."""
    epochs = [e["epoch"] for e in result["history"]]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(epochs, [e["train_loss"] for e in result["history"]], "o-", label="train (epoch mean)")
    ax.plot(epochs, [e["test_loss"] for e in result["history"]], "s-", label="test (after the epoch)")
    _epoch_axes(ax, title)
    ax.legend()
    _save(fig, path)


def overlay(path, results, title):
    """The test-loss curves of all runs of an experiment on one plot."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for result in results:
        ax.plot([e["epoch"] for e in result["history"]], [e["test_loss"] for e in result["history"]],
                "o-", label=f"{result['run']} ({result['status']})" if result["status"] != "finished" else result["run"])
    _epoch_axes(ax, title)
    ax.set_ylabel("test MSE loss")
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
