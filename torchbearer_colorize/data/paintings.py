"""Paintings (a folder, or the built-in ones) -> uint8 train/test arrays -> (gray, colour) items."""
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from skimage.color import rgb2gray
from torch.utils.data import Dataset

from ..errors import UserError
from . import builtin
from .cache import cached_array, default_cache_dir, fingerprint
from .images import IMAGE_SIZE, find_images, load_many

TEST_FRACTION = 0.2  # the report does not give its split; 80/20 is the common default
SPLIT_SEED = 0  # fixed, not --seed: every seed of a run is scored on the same test images
PREPROCESS_VERSION = 1  # bump when decoding or resizing changes: it invalidates cached arrays


@dataclass
class ImageSplits:
    """Preprocessed colour images of both splits, as N x H x W x 3 uint8 arrays."""
    train: np.ndarray
    test: np.ndarray
    train_names: list
    test_names: list
    label: str  # printed in every table and figure title
    fingerprint: str  # identifies the exact images: part of every run's identity

    @property
    def test_groups(self):
        """``{painter: test indices}`` (the test images by their first folder), or None for a flat folder: every
        task on these paintings scores and shows the same groups, so their sample grids show the same paintings."""
        return builtin.by_folder(self.test_names)


def load_paintings(data_root=None, cache_dir=None, limit=None, size=IMAGE_SIZE, strict=False):
    """The paintings under ``data_root`` (the built-in paintings when None), split 80/20, at most ``limit``
    a split, decoded once (:func:`decode_cached`); unreadable files are skipped with a warning (``strict``:
    refused)."""
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    if data_root is None:
        return _builtin_splits(cache_dir, limit, size)
    root = Path(data_root).expanduser()
    files = find_images(root)
    if len(files) < 2:
        raise UserError(f"--data-root {root} holds only {len(files)} image: a train/test split needs at least 2")
    order = np.random.default_rng(SPLIT_SEED).permutation(len(files))
    n_test = max(1, round(len(files) * TEST_FRACTION))
    test = sorted(order[:n_test].tolist())[:limit]
    train = sorted(order[n_test:].tolist())[:limit]
    decoded = {split: decode_cached([files[i] for i in idx], root, size, cache_dir, f"paintings-{split}")
               for split, idx in (("train", train), ("test", test))}
    arrays, names = report_skipped(decoded, root, strict)
    for split, array in arrays.items():
        if not len(array):
            raise UserError(f"--data-root {root}: no readable image in the {split} split")
    return ImageSplits(arrays["train"], arrays["test"], names["train"], names["test"],
                       label=f"paintings from {root.name}",
                       fingerprint=fingerprint(PREPROCESS_VERSION, size, names, pixels_key(arrays)))


def _builtin_splits(cache_dir, limit, size):
    """The built-in paintings, checked against their checksums, split by painting (``builtin.painting_split``)."""
    files = builtin.verified_files(builtin.PAINTINGS)
    chosen = builtin.painting_split(files)
    decoded = {split: decode_cached(chosen[split][:limit], builtin.PAINTINGS, size, cache_dir,
                                    f"builtin-paintings-{split}") for split in ("train", "test")}
    arrays, names = report_skipped(decoded, builtin.PAINTINGS, strict=True)
    return ImageSplits(arrays["train"], arrays["test"], names["train"], names["test"], label=builtin.PAINTINGS_LABEL,
                       fingerprint=fingerprint("builtin-paintings", PREPROCESS_VERSION, size, names,
                                               (builtin.PAINTINGS / "SHA256SUMS").read_text()))


def decode_cached(files, base, size, cache_dir, name):
    """Decode ``files`` (paths under ``base``) to an N x size x size x 3 uint8 array, cached in
    ``cache_dir`` keyed by their paths, sizes and modification times. Returns ``(array, names
    relative to base, skipped)``, where ``skipped`` lists the unreadable files as ``(path, reason)``."""
    listing = [(p.relative_to(base).as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in files]

    def build():
        images, kept, skipped = load_many(files, size)
        return images, {"names": [p.relative_to(base).as_posix() for p in kept], "skipped": skipped}

    array, meta = cached_array(cache_dir, name, fingerprint(PREPROCESS_VERSION, size, listing), build)
    return array, meta["names"], meta["skipped"]


def report_skipped(decoded, root, strict):
    """One warning listing every file that ``decode_cached`` skipped in any split (with ``strict``,
    an error instead); returns the splits' ``(arrays, names)`` dicts."""
    skipped = [entry for _, _, split_skipped in decoded.values() for entry in split_skipped]
    if skipped:
        listing = "\n  ".join(f"{path} ({reason})" for path, reason in skipped)
        if strict:
            raise UserError(f"--strict: {len(skipped)} unreadable image file(s) under {root}:\n  {listing}\n"
                            "remove or fix them, or drop --strict to skip them")
        print(f"warning: skipped {len(skipped)} unreadable image file(s):\n  {listing}")
    return ({split: array for split, (array, _, _) in decoded.items()},
            {split: names for split, (_, names, _) in decoded.items()})


def pixels_key(arrays):
    # Sizes and mtimes pick the cache entry; the run identity should follow the pixels themselves.
    digest = hashlib.sha256()
    for split in sorted(arrays):
        digest.update(np.ascontiguousarray(arrays[split]).data)
    return digest.hexdigest()[:16]


def to_nchw(images):
    """N x H x W x 3 uint8 array -> contiguous N x 3 x H x W uint8 tensor (still uint8: 4x less memory)."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).contiguous()


def gray_from_rgb(images, chunk=64):
    """``skimage.color.rgb2gray`` of N x H x W x 3 uint8 images, as an N x 1 x H x W float32 tensor."""
    gray = np.empty(images.shape[:3], dtype=np.float32)
    for start in range(0, len(images), chunk):
        gray[start:start + chunk] = rgb2gray(images[start:start + chunk])
    return torch.from_numpy(gray).unsqueeze(1)


_GRAY = {}  # (fingerprint, split) -> its gray tensor: the report's experiments, one process, share a conversion


def colorization_split(splits, split):
    """``ColorizationDataset`` of ``splits``' ``split`` ("train", "test"), its gray images converted once per
    process for the same images (their fingerprint)."""
    key = (splits.fingerprint, split)
    if key not in _GRAY:
        if len(_GRAY) >= 4:  # two data sets' splits at most: each is hundreds of MB
            del _GRAY[next(iter(_GRAY))]
        _GRAY[key] = gray_from_rgb(getattr(splits, split))
    return ColorizationDataset(getattr(splits, split), gray=_GRAY[key])


class ColorizationDataset(Dataset):
    """Items ``(gray 1 x H x W, colour 3 x H x W)``, floats in [0, 1]: the report's X and y.

    The gray input is computed once here (with skimage's ``rgb2gray``, as the report does) unless given
    (``gray``, N x 1 x H x W float32); the colour target stays uint8 in memory and becomes float per item.
    """

    def __init__(self, images, gray=None):
        self.color = to_nchw(images)
        self.gray = gray_from_rgb(images) if gray is None else gray

    def __len__(self):
        return len(self.color)

    def __getitem__(self, index):
        return self.gray[index], self.color[index].float().div_(255)


class ReconstructionDataset(Dataset):
    """Items ``(image, image)``, 3 x H x W floats in [0, 1]: an autoencoder's input is its target."""

    def __init__(self, images):
        self.images = to_nchw(images)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        image = self.images[index].float().div_(255)
        return image, image
