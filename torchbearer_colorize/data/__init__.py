"""Data: image folders and built-in sets -> cached uint8 arrays -> torch datasets."""
from .cache import default_cache_dir
from .images import IMAGE_SIZE, find_images, load_rgb, to_rgb
from .paintings import ColorizationDataset, ImageSplits, ReconstructionDataset, gray_from_rgb, load_paintings

__all__ = ["IMAGE_SIZE", "ColorizationDataset", "ImageSplits", "default_cache_dir", "find_images",
           "ReconstructionDataset", "gray_from_rgb", "load_paintings", "load_rgb", "to_rgb"]
