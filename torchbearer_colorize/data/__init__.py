"""Data: image folders and built-in sets -> cached uint8 arrays -> torch datasets.

The names below are imported when first used, so that ``data.cache`` (the cache folder's default, which
``--help`` shows) is read without torch."""
import importlib

_HOMES = {"IMAGE_SIZE": "images", "ColorizationDataset": "paintings", "ImageSplits": "paintings",
          "default_cache_dir": "cache", "find_images": "images", "ReconstructionDataset": "paintings",
          "gray_from_rgb": "paintings", "load_paintings": "paintings", "load_rgb": "images", "to_rgb": "images"}
__all__ = sorted(_HOMES)


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
