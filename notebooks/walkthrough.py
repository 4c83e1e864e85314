# ---
# jupyter:
#   jupytext:
#     formats: py:percent,ipynb
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The report, walked through: colorizing autoencoders and a beta-VAE with torchbearer
#
# This notebook follows the homework report that this repository reproduces: the data, the small
# colorizer's torchbearer `Trial` built in the open, the learning-rate sweep, the U-net beside it, and the
# beta-VAE whose KL term a torchbearer callback adds. Each section ends with the report's number beside
# ours and the verdict, over the committed seeds 0, 1 and 2 by the same rules as `figures/REPORT.md`.
#
# **Time.** As it stands (`QUICK = False`, below) the experiments reuse the runs committed in `runs/`
# (a few minutes: nothing is trained, the figures are checked against the stored models); the one Trial
# trained here in the open takes about 5 minutes on 2 CPU cores, well under one on a GPU. Retraining its
# three experiments (`--force`, or another `RUNS_DIR`) a seed takes about 26 minutes on 2 CPU cores: the
# sweep 15, the U-net 3, the beta-VAE 8. `QUICK = True` is a two-minute smoke test (one epoch on a few
# images, one seed) whose pictures and verdicts mean nothing.
#
# **Colab or Kaggle.** The notebook runs from a clone of this repository (it imports `experiments/` and
# `callbacks/` from there). Add a cell of your own at the top that clones it, with the address you clone
# it from, and moves into the clone:
#
# ```
# REPO_URL = "..."  # this repository's clone address
# !git clone {REPO_URL} torchbearer-colorize
# %cd torchbearer-colorize
# ```
#
# then run the cells; the first one installs the package when it is missing. A session's files go when
# it ends: point `RUNS_DIR` at persistent storage (Google Drive, `/kaggle/working`) to keep your runs
# (docs/run-store.md).

# %% tags=["parameters"]
QUICK = False  # False: the report's settings (the committed runs are reused); True: a 2-minute smoke test
DATA_ROOT = None  # a folder of your own paintings (any tree of images, e.g. a Kaggle dataset); None: built-in
RUNS_DIR = None  # None: runs/ (the committed store; runs/quick/ when QUICK)
OUT = None  # None: figures/ (runs/quick/ when QUICK)
DEVICE = "auto"  # CUDA when the runtime has one, else the CPU

# %% [markdown]
# ## Setup
# Finds the repository (this notebook lives in its `notebooks/` folder), installs the package there when
# it is not installed, and works from the repository root, where `experiments/` and `callbacks/` are.
# Its figures are shown as PNG images (`show`), whatever matplotlib's backend: `MPLBACKEND=Agg`, as headless
# servers set it, or the `Agg` that the package's figure code selects.

# %%
import importlib.util
import io
import os
import subprocess
import sys
from pathlib import Path

ROOT = next((folder for folder in (Path.cwd(), *Path.cwd().parents)
             if (folder / "setup.cfg").exists() and (folder / "experiments").is_dir()), None)
if ROOT is None:
    raise SystemExit(f"run this notebook inside a clone of the repository: {Path.cwd()} is not in one "
                     "(clone it and %cd into the clone first, as the top cell says for Colab or Kaggle)")
if importlib.util.find_spec("torchbearer_colorize") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", str(ROOT)], check=True)
os.chdir(ROOT)
sys.path.insert(0, str(ROOT))

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Image, Markdown, display

from experiments import report
from torchbearer_colorize.report.summary import collect
from torchbearer_colorize.report.verdicts import verdicts

SEEDS = report.SEEDS[:1] if QUICK else report.SEEDS  # the report's: the seeds whose runs are committed
device = "cuda" if DEVICE == "auto" and torch.cuda.is_available() else ("cpu" if DEVICE == "auto" else DEVICE)
print(f"repository {ROOT}; device {device}; QUICK = {QUICK}; seeds {SEEDS}")


def show(fig):
    """Show ``fig`` as a PNG image, whatever matplotlib's backend."""
    png = io.BytesIO()
    fig.savefig(png, format="png", bbox_inches="tight")
    plt.close(fig)
    display(Image(data=png.getvalue()))


def out_dir(name, seed=SEEDS[0]):
    """Where an experiment writes at ``seed``: as ``experiments.report``, the first seed's outputs in its folder,
    the others' in ``seed<N>/``."""
    if OUT:
        folder = Path(OUT) / name
    else:
        folder = (Path(RUNS_DIR) if RUNS_DIR else Path("runs")) / "quick" / name if QUICK else Path("figures") / name
    return folder if seed == SEEDS[0] else folder / f"seed{seed}"


def run_seeds(experiment, name):
    """``python -m experiments.<name> --seed N`` for each of SEEDS, with the options the parameters above ask for
    (finished runs are reused): {seed: [result, ...]}."""
    results = {}
    for seed in SEEDS:
        argv = ["--seed", str(seed), "--out", str(out_dir(name, seed)), "--device", DEVICE, "--verbose", "0"]
        argv += ["--quick"] if QUICK else []
        argv += ["--runs-dir", str(RUNS_DIR)] if RUNS_DIR else []
        argv += ["--data-root", str(DATA_ROOT)] if DATA_ROOT and name != "vae_fruits" else []
        results[seed] = experiment.main(argv)
    return results


def show_verdicts(results, claims):
    """The report's conclusions among ``claims`` (their first words), checked on ``results``
    ({experiment: {seed: [result, ...]}}) as REPORT.md checks them, as a table: the report's numbers, ours, the
    verdict."""
    found = [v for v in verdicts(collect(results)) if v.claim.startswith(claims) and v.verdict != "not run"]
    rows = "\n".join(f"| {v.claim} | {v.report} | {v.ours} | **{v.verdict}** |" for v in found)
    display(Markdown("| the report concludes | the report's numbers | ours | verdict |\n|---|---|---|---|\n" + rows))


# %% [markdown]
# ## The data
# The report colorized paintings that are not public. Without `DATA_ROOT`, the 499 built-in paintings are used
# (300 Monet, 199 Van Gogh, public domain), split by painting: every test image is a painting the model never
# saw. The input is the gray image (`skimage.color.rgb2gray`), the target the colour one.

# %%
from torchbearer_colorize.data.paintings import ColorizationDataset, load_paintings

splits = load_paintings(DATA_ROOT, limit=8 if QUICK else None)
train_set, test_set = ColorizationDataset(splits.train), ColorizationDataset(splits.test)
print(f"{splits.label}: {len(train_set)} train / {len(test_set)} test images")
fig, axes = plt.subplots(2, 4, figsize=(10, 5))
for column, index in enumerate(np.linspace(0, len(test_set) - 1, 4).astype(int)):
    gray, colour = test_set[index]
    axes[0, column].imshow(gray[0], cmap="gray", vmin=0, vmax=1)
    axes[1, column].imshow(colour.permute(1, 2, 0))
for ax in axes.flat:
    ax.axis("off")
axes[0, 0].set_title("gray input", loc="left")
axes[1, 0].set_title("colour target", loc="left")
show(fig)

# %% [markdown]
# ## The small colorizer, as a torchbearer Trial
# Three strided convolutions down, three transposed convolutions up, a sigmoid; MSE against the colour
# image; Adam at lr 1e-3, batch 32 (the report's question 4), for the report's 5 epochs in optimizer steps: 20
# epochs over our 400 training paintings (`EPOCH_FACTOR`). This is the whole training:
# the experiments below build the same Trial and add the run store's callbacks (checkpoint, CSV log,
# per-epoch seeding) so that a run is stored, resumed and reused.

# %%
import torchbearer
from torch import nn
from torch.utils.data import DataLoader
from torchbearer import Trial

from torchbearer_colorize.data.builtin import EPOCH_FACTOR
from torchbearer_colorize.models import SmallColorizer

torch.manual_seed(0)
model = SmallColorizer()
trial = Trial(model, torch.optim.Adam(model.parameters(), lr=1e-3), nn.MSELoss(), metrics=["loss"], verbose=0)
trial.with_generators(DataLoader(train_set, batch_size=32, shuffle=True),
                      val_generator=DataLoader(test_set, batch_size=32))
trial.to(device)
history = trial.run(epochs=1 if QUICK else 5 * EPOCH_FACTOR)
for epoch, logs in enumerate(history, 1):
    # torchbearer's "loss" is the mean over the epoch's batches ("running_loss": over the last few only)
    print(f"epoch {epoch}: train loss {logs['loss']:.5f}, test loss {logs['val_loss']:.5f}")

# %%
model.eval()
with torch.no_grad():
    gray = torch.stack([test_set[i][0] for i in range(4)])
    predicted = model(gray.to(device)).cpu()
fig, axes = plt.subplots(3, 4, figsize=(10, 7.5))
for column in range(4):
    axes[0, column].imshow(gray[column, 0], cmap="gray", vmin=0, vmax=1)
    axes[1, column].imshow(predicted[column].permute(1, 2, 0).clamp(0, 1))
    axes[2, column].imshow(test_set[column][1].permute(1, 2, 0))
for ax in axes.flat:
    ax.axis("off")
for row, title in enumerate(("gray input", "prediction", "truth")):
    axes[row, 0].set_title(title, loc="left")
show(fig)

# %% [markdown]
# ## The learning-rate sweep (question 4)
# The same Trial at lr 1e-4, 1e-3, 1e-2 and 1e-1, run through the package: `python -m
# experiments.lr_sweep` is this call, once per seed. Each finished run in the store is reused; the table and
# figures are written to the experiment's folder (the first seed's; the others' in `seed<N>/`).

# %%
from experiments import lr_sweep

sweep = run_seeds(lr_sweep, "lr_sweep")
display(Image(str(out_dir("lr_sweep") / "test_loss.png")))
display(Image(str(out_dir("lr_sweep") / "lr_0.001_samples.png")))

# %% [markdown]
# MSE averages the plausible colours of a gray pixel into a brownish sepia: the report's "MSE paints
# everything brown", measured as the spread of the predictions' hue against the truth's.

# %%
show_verdicts({"lr_sweep": sweep}, ("lr 1e-3", "lr 1e-1", "lr 1e-4", "MSE paints"))

# %% [markdown]
# ## The U-net beside it
# The small colorizer with two additive skips from the encoder to the decoder: the detail the bottleneck
# loses comes back (`python -m experiments.unet`).

# %%
from experiments import unet

unet_runs = run_seeds(unet, "unet")
display(Image(str(out_dir("unet") / "unet_samples.png")))
show_verdicts({"lr_sweep": sweep, "unet": unet_runs}, ("the U-net",))

# %% [markdown]
# ## The beta-VAE on fruits (exercise 2)
# A VAE with a 5-value latent on 100 x 100 fruit images. Its loss is the reconstruction MSE summed over
# the batch plus beta times the KL divergence of q(z|x) from N(0, I). The KL term is not in the model or
# the criterion: a torchbearer callback adds it to the loss, in training and validation alike. The model
# stores `mu` and `logvar` in torchbearer's state (torchbearer's own VAE idiom); this is the callback:

# %%
import inspect

from callbacks import KLDivergence, KLMetric, ReconstructionMetric
from torchbearer_colorize.models import VAELatent

print(inspect.getsource(KLDivergence))
vae = VAELatent()
vae_trial = Trial(vae, torch.optim.Adam(vae.parameters(), lr=5e-4), nn.MSELoss(reduction="sum"),
                  metrics=["loss", KLMetric(), ReconstructionMetric()], callbacks=[KLDivergence(beta=1.0)])
print(vae_trial)

# %% [markdown]
# The experiment trains that Trial (or reuses the stored run: `python -m experiments.vae_fruits`;
# Fruits-360 itself with `--data-root`), then draws the latent codes' histograms and fruits decoded from
# samples of the fitted latent distribution.

# %%
from experiments import vae_fruits

vae_runs = run_seeds(vae_fruits, "vae_fruits")
for name in ("beta_VAE_samples.png", "beta_VAE_latent_histograms.png", "beta_VAE_samples_from_latent.png"):
    display(Image(str(out_dir("vae_fruits") / name)))
show_verdicts({"vae_fruits": vae_runs}, ("scale check", "the beta-VAE"))

# %% [markdown]
# ## Further
# `python -m experiments.report` runs every table of the report (optimizers, the deeper net, the frozen
# inception encoder, denoising, colour classification too) and writes `figures/REPORT.md` with every
# conclusion checked; `tbc-colorize photo.jpg` colorizes your own photos with the bundled colorizer.
