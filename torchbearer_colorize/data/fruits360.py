"""Fruits-360 (the report's VAE data): find it, choose classes, decode both splits, download it.

The layout is ``Training/<class>/*.jpg`` and ``Test/<class>/*.jpg`` with 100 x 100 images on white.
Decoded splits are cached like the paintings (``cache.cached_array``), so the ~90,000 JPEGs are
decoded once per machine and class choice.
"""
import contextlib
import difflib
import http.client
import itertools
import numbers
import os
import shutil
import tarfile
import tempfile
import urllib.parse
import zipfile
from pathlib import Path

from ..errors import UserError
from .archives import extract
from .cache import default_cache_dir, fingerprint
from .images import IMAGE_EXTENSIONS

# torch and torchvision are imported by the functions that use them: python -m experiments.vae_fruits --help
# shows DEFAULT_CLASSES and FRUITS360_URL without them

IMAGE_SIZE = 100  # Fruits-360 images are 100 x 100 already; the report's VAE works at that size
DEFAULT_CLASSES = 30  # the report: "30 of the 131 classes", without saying which
SPLIT_FOLDERS = {"train": "Training", "test": "Test"}
LAYOUT = "Training/<class>/*.jpg and Test/<class>/*.jpg"

# Pinned to commit 8f127c5 of github.com/Horea94/Fruit-Images-Dataset: the commit that brought the
# data set to version 2020.05.18.0 -- 131 classes, 67,692 training and 22,688 test images -- which
# is the 131-class version the report used. A commit id, unlike a branch (master has since gained
# code-only commits) or a tag, cannot move. There is no official checksum: GitHub builds these
# archives on demand, so the bytes are not guaranteed stable either. The archive is large (hundreds
# of MB) and extracts to Fruit-Images-Dataset-8f127c5043b29237313f87268f16106b16cbd8c6/.
FRUITS360_URL = ("https://github.com/Horea94/Fruit-Images-Dataset/archive/"
                 "8f127c5043b29237313f87268f16106b16cbd8c6.zip")

# What a failed download or extraction raises: network and HTTP errors (URLError and HTTPError are
# OSErrors), a broken connection mid-body, torchvision's own RuntimeErrors, too many redirects, a
# malformed URL, and a truncated or non-archive body.
_FETCH_ERRORS = (OSError, http.client.HTTPException, RuntimeError, RecursionError, ValueError, EOFError,
                 zipfile.BadZipFile, tarfile.TarError)


def _subfolders(folder):
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def find_root(root):
    """The Fruits-360 folder holding ``Training/`` and ``Test/``: ``root`` itself or a folder up to two
    levels inside it (e.g. ``root/fruits-360/``, or Kaggle's ``root/fruits-360_dataset/fruits-360/``).
    Hidden folders are never taken: a half-finished download is staged in one."""
    root = Path(root).expanduser()
    if not root.exists():
        problem = "does not exist"
    elif not root.is_dir():
        problem = "is not a folder"
    else:
        children = _subfolders(root)
        grandchildren = [g for child in children for g in _subfolders(child)]
        for folder in [root, *children, *grandchildren]:
            if all((folder / name).is_dir() for name in SPLIT_FOLDERS.values()):
                return folder
        problem = "holds no Training/ and Test/ folders, nor does any folder up to two levels inside it"
    raise UserError(f"--data-root {root} {problem}: point it at the Fruits-360 folder (laid out as {LAYOUT}) "
                    "or the folder it was extracted into, or pass --download to fetch it there")


def choose_classes(available, classes):
    """The classes to use, sorted by name.

    ``classes`` is either a count ``k`` or a list of class names. A count picks, from the ``n``
    available names sorted alphabetically, those at positions ``i * n // k`` for ``i = 0 .. k-1``:
    evenly spaced through the alphabet, so the choice spans many fruits and their varieties (every
    fourth or fifth of Fruits-360's 131 classes for k = 30, starting at the first) instead of, say,
    the first 30, which are mostly apples. The same classes on disk and the same ``k`` always give
    the same choice. A list is taken as given (duplicates dropped); a single string is one name.
    """
    available = sorted(available)
    if isinstance(classes, str):
        classes = [classes]
    if isinstance(classes, numbers.Integral):
        classes = int(classes)
        if not 1 <= classes <= len(available):
            raise UserError(f"--classes {classes}: choose between 1 and {len(available)}, the number of "
                            "classes with images in both Training/ and Test/ (or name the classes)")
        return [available[i * len(available) // classes] for i in range(classes)]
    wanted = sorted(set(classes))
    if not wanted:
        raise UserError("--classes names no class: give a count or comma-separated class names")
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        close = sorted({match for name in unknown for match in difflib.get_close_matches(name, available, n=3)})
        known = ", ".join(repr(name) for name in (close or available[:5]))
        raise UserError(f"--classes: unknown Fruits-360 class(es) {', '.join(map(repr, unknown))} (names must match "
                        f"the folder names in both Training/ and Test/); known classes include {known}")
    return wanted


def load_fruits360(root, classes=DEFAULT_CLASSES, limit=None, cache_dir=None, strict=False):
    """Both splits of the chosen Fruits-360 classes (those with images in both ``Training/`` and ``Test/``)
    as 100 x 100 uint8 arrays, cached as :func:`.paintings.decode_cached` does.

    Images are ordered round-robin across the chosen classes (first image of each class, then the second
    of each, ...), and ``limit`` keeps the first ``limit`` of that order in each split, so a quick run still
    sees several classes. Names look like ``'Apple Braeburn/0_100.jpg'``.
    """
    from .paintings import PREPROCESS_VERSION, ImageSplits, decode_cached, pixels_key, report_skipped

    base = find_root(root)
    folders = {split: _class_images(base / folder) for split, folder in SPLIT_FOLDERS.items()}
    available = set(folders["train"]) & set(folders["test"])
    if not available:
        raise UserError(f"--data-root {base}: no class folder has images in both Training/ and Test/ "
                        f"(expected {LAYOUT})")
    chosen = choose_classes(available, classes)
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    decoded = {split: decode_cached(_round_robin([folders[split][name] for name in chosen])[:limit],
                                    base / folder, IMAGE_SIZE, cache_dir, f"fruits360-{split}")
               for split, folder in SPLIT_FOLDERS.items()}
    arrays, names = report_skipped(decoded, base, strict)
    for split, folder in SPLIT_FOLDERS.items():
        if not len(arrays[split]):
            raise UserError(f"--data-root {base}: no readable image in {folder}/ for the chosen classes "
                            f"({', '.join(chosen)})")
    return ImageSplits(arrays["train"], arrays["test"], names["train"], names["test"],
                       label=f"Fruits-360 ({len(chosen)} class{'' if len(chosen) == 1 else 'es'})",
                       fingerprint=fingerprint("fruits360", PREPROCESS_VERSION, IMAGE_SIZE, names,
                                               pixels_key(arrays)))


def download_fruits360(data_root, url=FRUITS360_URL, log=print):
    """Download the Fruits-360 archive at ``url`` and extract it into ``data_root`` (unless already there);
    return ``find_root``.

    :func:`.archives.extract` refuses an archive with any member that could land outside its folder.
    Download and extraction happen in a hidden staging folder inside ``data_root``, always removed
    afterwards, so an interrupted, failed or refused attempt leaves nothing half-done behind; the
    extracted folders are moved into ``data_root`` only once all are there.
    """
    from torchvision.datasets.utils import download_url

    data_root = Path(data_root).expanduser()
    with contextlib.suppress(UserError):
        found = find_root(data_root)
        log(f"Fruits-360 is already in {found}: not downloading it again")
        return found
    try:
        data_root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".fruits360-download-", dir=data_root))
    except OSError as err:
        raise UserError(f"--data-root {data_root} cannot be created or written ({err.strerror or err}): "
                        "choose a writable folder") from None
    # The archive type comes from the file name, so take it from the URL's path, not its query.
    filename = Path(urllib.parse.urlsplit(url).path).name or "fruits360.zip"
    log(f"downloading Fruits-360 from {url} into {data_root} (no checksum is published for it)")
    try:
        tree = staging / "tree"
        try:
            download_url(url, staging / "archive", filename=filename, md5=None)
            tree.mkdir()
            extract(staging / "archive" / filename, tree, url)
        except _FETCH_ERRORS as err:
            raise UserError(f"could not download and extract {url} ({type(err).__name__}: {err}): check the address "
                            "and the connection, pass another archive with --url, or download and extract "
                            f"Fruits-360 by hand into --data-root {data_root}") from None
        items = sorted(tree.iterdir())
        for target in (data_root / item.name for item in items):
            if target.exists() or target.is_symlink():
                raise UserError(f"{target} already exists but is not a Fruits-360 folder: move it away "
                                "or choose another --data-root")
        for item in items:
            os.replace(item, data_root / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    try:
        return find_root(data_root)
    except UserError as err:
        raise UserError(f"the archive {url} does not hold Fruits-360 ({LAYOUT}): {err}") from None


def _class_images(split_dir):
    """``{class name: sorted image files}`` for each non-hidden class folder holding at least one image."""
    classes = {}
    for folder in _subfolders(split_dir):
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
        if files:
            classes[folder.name] = files
    return classes


def _round_robin(groups):
    """``[a0, b0, c0, a1, b1, c1, a2, ...]`` for groups ``a, b, c`` of any lengths."""
    return [item for layer in itertools.zip_longest(*groups) for item in layer if item is not None]
