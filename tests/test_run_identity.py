"""Every experiment's default runs at seed 0 are the runs committed in runs/: their folder names, computed
from the experiment modules' own specs and data (built, never trained), are pinned here, so that a change
to a spec, to the data fingerprint or to the identity itself cannot silently orphan the committed store."""
from pathlib import Path

import pytest
import torch

from experiments import color_classes, deep, denoise, inception, lr_sweep, optimizers, unet, vae_fruits
from torchbearer_colorize.data.tasks import colorization_data
from torchbearer_colorize.training.cli import parse_options
from torchbearer_colorize.training.runs import run_dir, run_settings

ROOT = Path(__file__).resolve().parents[1]
SMALL = "colorize-small-adam-lr0.001-e20-b32-s0-ca87f94310e04789"  # the sweep's lr 0.001 run, shared by three tables
COMMITTED = {
    "lr_sweep": ["colorize-small-adam-lr0.0001-e20-b32-s0-0b845355f1e486eb", SMALL,
                 "colorize-small-adam-lr0.01-e20-b32-s0-e4d25173e62c99e8",
                 "colorize-small-adam-lr0.1-e20-b32-s0-627efbbb785d0d21"],
    "optimizers": ["colorize-small-sgd-lr0.001-e20-b32-s0-407b36d3e11ea55b",
                   "colorize-small-adadelta-lr0.001-e20-b32-s0-8253f2b3a257aecf", SMALL],
    "deep": ["colorize-deep-adam-lr0.001-e40-b32-s0-cce1001b737bde28"],
    "unet": ["colorize-unet-adam-lr0.001-e20-b32-s0-07f1e0600d08b093"],
    "denoise": ["denoise-small-adam-lr0.001-e40-b32-s0-88737acf5401df90"],
    "color_classes": [SMALL, "color-classes-small_ab-adam-lr0.001-e20-b32-s0-65cb5e3a82db0a88",
                      "color-classes-small_classes-adam-lr0.001-e20-b32-s0-16c5af62ec0430da",
                      "color-classes-small_classes-adam-lr0.001-e20-b32-s0-c29c896bd852faa1"],
    "vae_fruits": ["reconstruct-vae-adam-lr0.0005-e10-b32-s0-e6e9fd8248f9ea28"],
    "inception": ["colorize-inception-inception_decoder-adam-lr0.001-e40-b32-s0-083886314414aff6"],
}


def default_args(module, tmp_path, *extra):
    """The options ``python -m experiments.<module>`` runs with by default (outputs and caches in ``tmp_path``)."""
    return parse_options(module.__name__.rsplit(".", 1)[1], "", getattr(module, "options", None),
                         argv=["--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "out"),
                               "--cache-dir", str(tmp_path / "cache"), *extra])


def folders(specs, data):
    return [run_dir("runs", run_settings(spec, data, seed=0)).name for spec in specs]


@pytest.fixture(scope="module")
def built_in(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("identity")
    return tmp, colorization_data(default_args(lr_sweep, tmp))


@pytest.mark.parametrize("module", [lr_sweep, optimizers, deep, unet, denoise, color_classes],
                         ids=lambda m: m.__name__)
def test_the_paintings_experiments_default_runs_are_the_committed_ones(built_in, module):
    tmp, paintings = built_in
    args = default_args(module, tmp)
    if module is denoise:
        found = folders(denoise.SPECS, denoise.noisy_data(args))
    elif module is color_classes:
        found = folders([color_classes.MSE_SPEC], paintings) + folders(color_classes.ablation_specs(),
                                                                      color_classes.class_data(paintings))
    else:
        found = folders(module.specs(args) if hasattr(module, "specs") else module.SPECS, paintings)
    name = module.__name__.rsplit(".", 1)[1]
    assert found == COMMITTED[name]
    assert all((ROOT / "runs" / folder / "result.json").is_file() for folder in found)


@pytest.mark.slow
def test_the_vae_and_inception_default_runs_are_the_committed_ones(tmp_path, monkeypatch):
    from torchbearer_colorize.models.inception import FEATURES, InceptionEncoder
    args = default_args(vae_fruits, tmp_path)
    assert folders(vae_fruits.specs(args), vae_fruits.fruit_data(args)) == COMMITTED["vae_fruits"]
    args = default_args(inception, tmp_path, "--no-pretrained")  # the committed figures' random frozen encoder
    # the identity holds the encoder's weights id (its seed and how many images set its batch-norm statistics),
    # not its outputs: a stand-in forward spares calibrating on 256 images through inception (minutes on a CPU)
    monkeypatch.setattr(InceptionEncoder, "forward", lambda self, gray: torch.zeros(len(gray), FEATURES))
    assert folders(inception.SPECS, inception.feature_data(args)) == COMMITTED["inception"]
    assert all((ROOT / "runs" / folder / "result.json").is_file()
               for folder in COMMITTED["vae_fruits"] + COMMITTED["inception"])
