"""Find image files in a folder tree and decode any of them to a fixed-size RGB uint8 array."""
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import UserError

IMAGE_SIZE = 256  # the report rescales every painting to 256 x 256
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


def find_images(root):
    """Every image file under ``root`` (recursive, extensions in any case), sorted by relative path."""
    root = Path(root).expanduser()
    if not root.exists():
        raise UserError(f"--data-root {root} does not exist: point it at a folder of images")
    if not root.is_dir():
        raise UserError(f"--data-root {root} is not a folder: point it at a folder of images")
    files = sorted((p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()),
                   key=lambda p: p.relative_to(root).as_posix())
    if not files:
        raise UserError(f"--data-root {root} holds no images ({', '.join(sorted(IMAGE_EXTENSIONS))}, "
                        "searched recursively): point it at a folder tree of paintings")
    return files


def to_rgb(img):
    """Any PIL mode to RGB: transparency is composited on white, 16-bit and float are rescaled."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.array(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        if img.mode == "F" and arr.max() <= 1.0:
            top = 1.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return img.convert("RGB")


def load_rgb(path, size=IMAGE_SIZE):
    """Decode ``path`` to a ``size`` x ``size`` x 3 uint8 array (aspect not kept, as in the report)."""
    with Image.open(path) as img:
        # JPEG only: decode at the smallest power-of-two scale still >= size (several times faster).
        img.draft("RGB", (size, size))
        img = to_rgb(ImageOps.exif_transpose(img)).resize((size, size), Image.Resampling.BICUBIC)
        return np.array(img, dtype=np.uint8)


def load_many(paths, size=IMAGE_SIZE):
    """``(N x size x size x 3 uint8 array, kept paths, skipped)`` of ``paths``, skipping unreadable files
    (``skipped`` lists them as ``(path, reason)``)."""
    out = np.empty((len(paths), size, size, 3), dtype=np.uint8)
    kept, skipped = [], []
    for path in paths:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                out[len(kept)] = load_rgb(path, size)
        except (OSError, UnidentifiedImageError, ValueError, SyntaxError,
                Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
            skipped.append((str(path), f"{type(err).__name__}: {err}"))
            continue
        kept.append(path)
    return out[: len(kept)], kept, skipped
