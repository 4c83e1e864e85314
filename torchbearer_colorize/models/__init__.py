"""Models by the names that run settings and checkpoints use."""
from .classification import ABRegressor, ClassColorizer
from .colorizers import DeepColorizer, SmallColorizer, UNetColorizer
from .inception import InceptionColorizer, InceptionDecoder, InceptionEncoder, load_encoder
from .vae import VAELatent

MODELS = {"small": SmallColorizer, "deep": DeepColorizer, "unet": UNetColorizer,
          "inception_decoder": InceptionDecoder, "vae": VAELatent,
          "small_classes": ClassColorizer, "small_ab": ABRegressor}


def build_model(name, **kwargs):
    try:
        return MODELS[name](**kwargs)
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}") from None


__all__ = ["MODELS", "DeepColorizer", "InceptionColorizer", "InceptionDecoder", "InceptionEncoder",
           "SmallColorizer", "UNetColorizer", "VAELatent", "build_model", "load_encoder"]
