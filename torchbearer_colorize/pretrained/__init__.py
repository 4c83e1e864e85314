"""The colorizer that ships with the package: the one whose colour alone scores best on the built-in test paintings
(figures/REPORT.md's headline says which, from the numbers, and whether this is it), trained on the built-in
paintings (Monet, Van Gogh). ``colorizer.pt`` (package data) is a run's ``model.pt`` as it was saved;
``colorizer.json`` beside it holds the run's settings, data label and test numbers. Both are written by
``python -m torchbearer_colorize.pretrained.export RUN_DIR``."""
import json
from importlib.resources import as_file, files

NAME = "colorizer"
WEIGHTS, INFO = files(__package__) / f"{NAME}.pt", files(__package__) / f"{NAME}.json"
# the colorizers a run can bundle (their model names), as the line that names the bundled one calls them
KINDS = {"small": "small colorizer", "deep": "deep colorizer", "unet": "U-net colorizer",
         "small_ab": "a*b* regression colorizer", "small_classes": "colour-classification colorizer"}


def bundled_info():
    """The bundled model's settings, data label and test numbers (its ``.json``)."""
    return json.loads(INFO.read_text(encoding="utf-8"))


def load_bundled(device="cpu"):
    """``(model, info)``: the bundled colorizer in eval mode, and :func:`bundled_info`."""
    from ..training.store import load_model
    with as_file(WEIGHTS) as path:
        return load_model(path, device), bundled_info()


def describe(info):
    """One line naming the bundled model and its numbers, e.g. for ``tbc-colorize``."""
    metrics, epochs = info["metrics"], info["settings"]["epochs"]
    epochs = f"{epochs} epoch{'' if epochs == 1 else 's'}"
    return (f"the bundled {KINDS.get(info['settings']['model'], info['settings']['model'])} "
            f"({info['parameters']:,} parameters, {epochs} on {info['n_train']} images; {info['data']}; "
            f"per-image test MSE of its colour on the input's lightness {metrics['mse_input_l']:.5f}, AuC "
            f"{metrics['auc']:.3f}; --checkpoint for another)")
