"""The built-in data, shipped inside the package so that a fresh clone or an installed wheel works offline.

- ``paintings/``: 499 real paintings, 300 by Claude Monet and 199 by Vincent van Gogh, 256 x 256 JPEG,
  public domain. Split by painting, a fixed rule (:func:`painting_split`): every test image is a
  painting the model never saw.
- ``fruits360/``: 6,000 real Fruits-360 photographs, release 2019.05.06.1, 30 classes, 150 ``Training/`` and
  50 ``Test/`` images each, 100 x 100 JPEG, MIT licence of the data set's authors.

Each folder's ``SHA256SUMS`` lists its files, checked on every load; ``SOURCES.md`` says where they came from.
"""
import hashlib
import itertools
from pathlib import Path

from ...errors import UserError

ROOT = Path(__file__).resolve().parent
PAINTINGS = ROOT / "paintings"
FRUITS = ROOT / "fruits360"
PAINTINGS_LABEL = "built-in paintings (Monet, Van Gogh; test paintings never seen in training)"
FRUITS_LABEL = "built-in subset of release 2019.05.06.1"
TEST_EVERY = 5  # in each painter's folder, sorted by file name, the 5th, 10th, 15th, ... painting is a test one
# The report's epochs went through about 1,619 training paintings (2024 at 80 / 20), ours through 400: an epoch
# here is a quarter of the report's, so the experiments run 4 x the report's epochs, the report's number of
# optimizer steps at batch 32 (5 epochs: 255 steps there, 20 x 13 = 260 here). docs/fidelity.md says why.
REPORT_TRAIN_IMAGES = 1619
REPORT_STEPS = -(-REPORT_TRAIN_IMAGES // 32)  # 51 batches of 32 an epoch, the last partial
EPOCH_FACTOR = 4  # round(REPORT_TRAIN_IMAGES / 400)


def verified_files(folder):
    """The files ``folder/SHA256SUMS`` lists, in its order, each present and unaltered; otherwise a
    ``UserError`` naming the file and how to restore it."""
    listing = folder / "SHA256SUMS"
    if not listing.is_file():
        raise UserError(f"the built-in data's checksum list {listing} is missing: {RESTORE}")
    files = []
    for line in listing.read_text().splitlines():
        digest, name = line.split("  ", 1)
        path = folder / name
        if not path.is_file():
            raise UserError(f"built-in image {path} is missing: {RESTORE}")
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise UserError(f"built-in image {path} is altered (its SHA-256 is not the one in {listing}): {RESTORE}")
        files.append(path)
    return files


RESTORE = "restore it with `git checkout -- <that path>` in a clone (or clone afresh), or reinstall the package"


def painting_split(files, root=PAINTINGS):
    """``{"train": [...], "test": [...]}`` of ``files`` (paths under ``root``, one folder per painter): in each
    painter's folder, sorted by name, every ``TEST_EVERY``-th painting is a test painting (both painters on both
    sides, 80 / 20). Each split interleaves the painters (Monet, Van Gogh, Monet, ...), so the first images of
    a split, which ``--limit`` keeps, show both."""
    by_painter = {}
    for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        by_painter.setdefault(path.relative_to(root).parts[0], []).append(path)
    splits = {"train": [], "test": []}
    for split in splits:
        groups = [[p for i, p in enumerate(paintings, 1) if (i % TEST_EVERY == 0) == (split == "test")]
                  for paintings in by_painter.values()]
        splits[split] = [p for layer in itertools.zip_longest(*groups) for p in layer if p is not None]
    return splits


PAINTERS = {"monet": "Monet", "vangogh": "Van Gogh"}  # folder -> the name tables print


def by_folder(names):
    """``{folder: indices}`` of image ``names`` (``'monet/000c1e3bff.jpg'``) by their first folder, the painter's
    name for the built-in ones; None when they are not in at least two folders."""
    groups = {}
    for i, name in enumerate(names):
        if "/" in name:
            folder = name.split("/", 1)[0]
            groups.setdefault(PAINTERS.get(folder, folder), []).append(i)
    return groups if len(groups) > 1 and sum(map(len, groups.values())) == len(names) else None
