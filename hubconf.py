"""torch.hub entry points for the report's models, e.g. from a clone of this repository:

    model = torch.hub.load(".", "ab_colorizer", source="local", pretrained=True)

The report's colorizers map a gray N x 1 x H x W batch in [0, 1] to RGB N x 3 x H x W; the a*b* regression maps it
to ab at a quarter of the size (``model.predict_rgb(gray)``: RGB on the input's lightness). ``pretrained=True`` is
offered for the model the package bundles (trained on the built-in paintings; see ``torchbearer_colorize.pretrained``).
The models import torchbearer and scikit-image, the package's own dependencies.
"""
from torchbearer_colorize import pretrained as _pretrained
from torchbearer_colorize.models import build_model as _build_model

dependencies = ["torch", "torchvision", "torchbearer", "skimage"]
_ENTRIES = {"small_colorizer": "small", "deep_colorizer": "deep", "unet_colorizer": "unet", "ab_colorizer": "small_ab",
            "beta_vae": "vae"}


def _model(entry, name, pretrained, **kwargs):
    if not pretrained:
        return _build_model(name, **kwargs)
    bundled = [e for e, model in _ENTRIES.items() if model == _pretrained.bundled_info()["settings"]["model"]]
    if entry not in bundled:
        raise ValueError(f"{entry} has no bundled weights; pretrained=True is offered for: {', '.join(bundled)}")
    return _pretrained.load_bundled()[0]


def small_colorizer(pretrained=False, **kwargs):
    """The report's small colorizer (question 4): 3 convolutions down to 64 x 32 x 32, 3 transposed ones up.
    No bundled weights: train one with ``python -m experiments.lr_sweep``."""
    return _model("small_colorizer", "small", pretrained, **kwargs)


def deep_colorizer(pretrained=False, **kwargs):
    """The report's deeper colorizer: 5 + 5 layers, a 64 x 8 x 8 bottleneck. No bundled weights:
    ``python -m experiments.deep``."""
    return _model("deep_colorizer", "deep", pretrained, **kwargs)


def unet_colorizer(pretrained=False, **kwargs):
    """The report's U-net colorizer: the small net plus additive skips (about 100k parameters). No bundled weights:
    ``python -m experiments.unet``."""
    return _model("unet_colorizer", "unet", pretrained, **kwargs)


def ab_colorizer(pretrained=False, **kwargs):
    """The a*b* regression of the colour-classification ablation: the small net's encoder and first decoder block,
    ab at 64 x 64 (``predict_rgb``: RGB on the input's lightness). ``pretrained=True``: the bundled weights, in eval
    mode (built-in paintings; muted, olive-sepia colour)."""
    return _model("ab_colorizer", "small_ab", pretrained, **kwargs)


def beta_vae(pretrained=False, **kwargs):
    """The report's beta-VAE for 100 x 100 Fruits-360 images (latent size 5; ``latent_size=`` for another).
    No bundled weights: ``python -m experiments.vae_fruits``."""
    return _model("beta_vae", "vae", pretrained, **kwargs)
