"""Models by the names that run settings and checkpoints use."""
from .colorizers import SmallColorizer

MODELS = {"small": SmallColorizer}


def build_model(name, **kwargs):
    try:
        return MODELS[name](**kwargs)
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}") from None


__all__ = ["MODELS", "SmallColorizer", "build_model"]
