"""The built-in sample set: 256 x 256 crops of colour photographs that ship inside installed packages.

The report's 2024 paintings are not public, so the package ships a stand-in that works offline:
deterministic crops (random side, position and flip, seeded per crop) of nine photographs from
scikit-image and matplotlib. Each photograph's last third along its long side is held out: test crops
come only from that strip, training crops only from the rest, so the splits share no pixels.
"""
import functools

import numpy as np
from PIL import Image

LABEL = "built-in sample set, not the report's paintings"
VERSION = 1  # bump when the recipe changes: it is part of every cache key and run fingerprint
N_IMAGES = 2024  # as many as the report's paintings, so an epoch costs what it cost there
TEST_FRACTION = 0.2
HELD_OUT = 1 / 3  # share of each photograph's long side kept for test crops
SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field",
                  "immunohistochemistry", "retina", "stereo_motorcycle")
SOURCES = SKIMAGE_PHOTOS + ("grace_hopper",)


def default_sizes():
    n_test = round(N_IMAGES * TEST_FRACTION)
    return N_IMAGES - n_test, n_test


@functools.lru_cache(maxsize=None)
def source_photo(name):
    """One of ``SOURCES``, as an H x W x 3 uint8 array (from skimage's or matplotlib's sample data)."""
    if name == "grace_hopper":
        from matplotlib import cbook
        with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as img:
            return np.array(img.convert("RGB"))
    import skimage.data
    photo = getattr(skimage.data, name)()
    if name == "stereo_motorcycle":
        photo = photo[0]  # (left, right, disparity): the left view
    return np.ascontiguousarray(photo[..., :3])


def source_region(photo, split):
    """The part of ``photo`` a split may crop from: test gets the last third of the long side."""
    h, w = photo.shape[:2]
    cut = round((w if w >= h else h) * (1 - HELD_OUT))
    if w >= h:
        return photo[:, cut:] if split == "test" else photo[:, :cut]
    return photo[cut:] if split == "test" else photo[:cut]


def make_crop(split, index, size=256):
    """Crop number ``index`` of ``split`` ('train' or 'test'): a pure function of its arguments."""
    name = SOURCES[index % len(SOURCES)]
    photo = source_photo(name)
    h, w = photo.shape[:2]
    # Both splits draw crop sides from the same range (set by the test strip), so their scales match.
    largest = min(round(max(h, w) * HELD_OUT), min(h, w))
    region = source_region(photo, split)
    rng = np.random.default_rng([VERSION, 0 if split == "train" else 1, index])
    side = int(rng.integers(round(0.6 * largest), largest + 1))
    top = int(rng.integers(0, region.shape[0] - side + 1))
    left = int(rng.integers(0, region.shape[1] - side + 1))
    crop = region[top:top + side, left:left + side]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    img = Image.fromarray(np.ascontiguousarray(crop)).resize((size, size), Image.Resampling.BICUBIC)
    return np.array(img, dtype=np.uint8), f"{name}/{split}-{index:04d}"


def make_split(split, count, size=256):
    """``count`` crops of ``split`` as an N x size x size x 3 uint8 array, and their names."""
    images = np.empty((count, size, size, 3), dtype=np.uint8)
    names = []
    for i in range(count):
        images[i], name = make_crop(split, i, size)
        names.append(name)
    return images, names
