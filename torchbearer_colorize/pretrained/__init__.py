"""The colorizer that ships with the package: a U-net trained by ``python -m experiments.unet`` on the
built-in paintings (Monet, Van Gogh). ``unet_colorizer.pt`` (package data) is a run's ``model.pt`` as it was saved;
``unet_colorizer.json`` beside it holds the run's settings, data label and test numbers. Both are
written by ``python -m torchbearer_colorize.pretrained.export RUN_DIR``."""
import json
from importlib.resources import as_file, files

NAME = "unet_colorizer"
WEIGHTS, INFO = files(__package__) / f"{NAME}.pt", files(__package__) / f"{NAME}.json"


def bundled_info():
    """The bundled model's settings, data label and test numbers (its ``.json``)."""
    return json.loads(INFO.read_text(encoding="utf-8"))


def load_bundled(device="cpu"):
    """``(model, info)``: the bundled U-net colorizer in eval mode, and :func:`bundled_info`."""
    from ..training.store import load_model
    with as_file(WEIGHTS) as path:
        return load_model(path, device), bundled_info()


def describe(info):
    """One line naming the bundled model and its numbers, e.g. for ``tbc-colorize``."""
    ssim, epochs = info["metrics"].get("ssim"), info["settings"]["epochs"]
    epochs = f"{epochs} epoch{'' if epochs == 1 else 's'}"
    return (f"the bundled U-net colorizer ({info['parameters']:,} parameters, {epochs} "
            f"on {info['n_train']} images; {info['data']}; test MSE {info['test_loss']:.5f}"
            + (f", SSIM {ssim:.3f}" if ssim is not None else "") + "; --checkpoint for another)")
