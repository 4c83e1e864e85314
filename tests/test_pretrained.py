"""The bundled colorizer (package data) and the torch.hub entry points."""
import importlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib import cbook
from PIL import Image
from skimage.color import rgb2lab
from torch.nn import functional as F
from torch.utils.data import DataLoader

from torchbearer_colorize.data.paintings import ColorizationDataset, load_paintings
from torchbearer_colorize.pretrained import WEIGHTS, load_bundled
from torchbearer_colorize.pretrained.export import data_fingerprint
from torchbearer_colorize.colorize import load_colorizer, main

ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINTS = {"small_colorizer": "SmallColorizer", "deep_colorizer": "DeepColorizer",
                "unet_colorizer": "UNetColorizer", "ab_colorizer": "ABRegressor", "beta_vae": "VAELatent"}
BUNDLED_ENTRY = "ab_colorizer"  # the entry point of the bundled model's kind


@pytest.mark.slow  # builds the whole built-in set (2024 crops) in a fresh cache
def test_the_bundled_weights_reproduce_their_test_loss(tmp_path):
    """torchbearer's test loss of the bundled run (the mean over batches of each batch's loss: for the a*b*
    regression, the squared ab error on the 64 x 64 targets), recomputed here from the bundled weights."""
    from torchbearer_colorize import color_classes as cc
    model, info = load_bundled()
    assert not model.training and info["settings"]["model"] == "small_ab"
    splits = load_paintings(None, tmp_path, info["limit"])
    assert data_fingerprint(splits, info["settings"]["task"]) == info["settings"]["data"]
    test = ColorizationDataset(splits.test)
    assert len(test) == info["n_test"]
    data = cc.ColorClassDataset(test.gray, cc.ab_targets(test.color))
    loader = DataLoader(data, batch_size=info["settings"]["batch_size"])
    with torch.no_grad():
        losses = [cc.ABSquaredError()(model(inputs), targets).item() for inputs, targets in loader]
    assert math.isclose(sum(losses) / len(losses), info["test_loss"], rel_tol=1e-5)


def test_colorize_without_a_checkpoint_uses_the_bundled_model(tmp_path, capsys):
    source = tmp_path / "photo.jpg"
    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as img:
        img.resize((301, 233)).save(source)
    main([str(source), "--out", str(tmp_path / "out")])
    written = tmp_path / "out" / "photo_colorized.png"
    assert "the bundled a*b* regression colorizer" in capsys.readouterr().out
    original, colorized = Image.open(source), Image.open(written)
    assert colorized.size == original.size and colorized.mode == original.mode == "RGB"
    chroma = np.hypot(*rgb2lab(np.asarray(colorized))[..., 1:].transpose(2, 0, 1))
    assert chroma.mean() > 2  # Lab chroma: a gray image has 0
    assert np.array_equal(load_colorizer()(np.asarray(original)), np.asarray(colorized))


def test_a_transparent_photo_keeps_its_transparency(tmp_path):
    source = cbook.get_sample_data("Minduka_Present_Blue_Pack.png", asfileobj=False)  # RGBA, not a training photo
    main([str(source), "--out", str(tmp_path)])
    original, colorized = Image.open(source), Image.open(tmp_path / "Minduka_Present_Blue_Pack_colorized.png")
    assert original.mode == colorized.mode == "RGBA" and colorized.size == original.size
    assert np.array_equal(np.asarray(colorized.getchannel("A")), np.asarray(original.getchannel("A")))


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_torch_hub_entry_points(name):
    model = torch.hub.load(str(ROOT), name, source="local")
    assert type(model).__name__ == ENTRY_POINTS[name] and getattr(importlib.import_module("hubconf"), name).__doc__
    if name == BUNDLED_ENTRY:
        model = torch.hub.load(str(ROOT), name, source="local", pretrained=True)
        saved = load_bundled()[0].state_dict()
        assert not model.training and all(torch.equal(v, saved[k]) for k, v in model.state_dict().items())
    else:
        with pytest.raises(ValueError, match=BUNDLED_ENTRY):
            torch.hub.load(str(ROOT), name, source="local", pretrained=True)


def test_export_writes_the_bundled_files_from_a_run_folder(tmp_path):
    """The bundled files are what ``pretrained.export`` writes from the run they came from."""
    from torchbearer_colorize.atomic import write_json
    from torchbearer_colorize.pretrained import INFO
    from torchbearer_colorize.pretrained.export import main as export
    info, run = json.loads(INFO.read_text()), tmp_path / "runs" / "color-classes-small_ab-run"
    run.mkdir(parents=True)
    (run / "model.pt").write_bytes(WEIGHTS.read_bytes())
    write_json(run / "metrics.json", info["metrics"])
    write_json(run / "result.json", {"status": "finished", **{key: info[key] for key in (
        "settings", "data", "n_train", "n_test", "test_loss", "train_loss", "versions", "finished_at")}})
    export([str(run), "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")])
    assert (tmp_path / "out" / "colorizer.pt").read_bytes() == WEIGHTS.read_bytes()
    assert json.loads((tmp_path / "out" / "colorizer.json").read_text()) == {**info, "run": run.name}
