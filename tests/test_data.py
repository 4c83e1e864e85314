import configparser
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.color import rgb2gray

from torchbearer_colorize.data.paintings import ColorizationDataset, load_paintings

from torchbearer_colorize.data.images import find_images, load_rgb, to_rgb
from torchbearer_colorize.data import builtin, paintings as paintings_module
from torchbearer_colorize.errors import UserError


def test_find_images_is_recursive_sorted_and_case_insensitive(paintings):
    (paintings / "notes.txt").write_text("not an image")
    files = find_images(paintings)
    assert len(files) == 10
    assert {f.suffix for f in files} == {".png", ".JPG", ".bmp"}
    assert files == sorted(files, key=lambda p: p.relative_to(paintings).as_posix())


@pytest.mark.parametrize("make, match", [
    (lambda p: p / "missing", "does not exist"),
    (lambda p: p, "holds no images"),
])
def test_find_images_errors_name_the_folder(tmp_path, make, match):
    root = make(tmp_path)
    with pytest.raises(UserError, match=match) as err:
        find_images(root)
    assert str(root) in str(err.value)


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "CMYK", "I;16", "RGB"])
def test_every_mode_loads_as_rgb(tmp_path, mode):
    base = Image.new("RGB", (20, 10), (200, 100, 50))
    img = base.convert(mode) if mode != "I;16" else Image.fromarray(np.full((10, 20), 40000, np.uint16))
    path = tmp_path / ("x.tif" if mode in ("CMYK", "I;16") else "x.png")
    img.save(path)
    arr = load_rgb(path, size=16)
    assert arr.shape == (16, 16, 3) and arr.dtype == np.uint8
    if mode == "I;16":  # 16-bit gray is rescaled, not clipped to white
        assert abs(int(arr[0, 0, 0]) - round(40000 / 257)) <= 1


def test_transparency_is_composited_on_white():
    img = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    assert np.array(to_rgb(img))[0, 0].tolist() == [255, 255, 255]
    half = Image.new("LA", (4, 4), (0, 128))
    assert abs(int(np.array(to_rgb(half))[0, 0, 0]) - 127) <= 1


def test_load_paintings_splits_and_caches(paintings, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    splits = load_paintings(paintings, cache, size=32)
    assert (len(splits.train), len(splits.test)) == (8, 2)
    assert splits.train.shape == (8, 32, 32, 3) and splits.train.dtype == np.uint8
    assert not set(splits.train_names) & set(splits.test_names)
    assert splits.label == "paintings from paintings"

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again despite the cache")
    monkeypatch.setattr(paintings_module, "load_many", no_decoding)
    again = load_paintings(paintings, cache, size=32)
    assert again.fingerprint == splits.fingerprint
    np.testing.assert_array_equal(again.train, splits.train)


def test_limit_and_unreadable_files_are_skipped_with_a_warning(paintings, tmp_path, capsys):
    (paintings / "artist0" / "broken.jpg").write_bytes(b"")
    (paintings / "artist1" / "truncated.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    splits = load_paintings(paintings, tmp_path / "cache", size=32, limit=3)
    assert len(splits.train) <= 3 and len(splits.test) <= 3
    full = load_paintings(paintings, tmp_path / "cache", size=32)
    assert len(full.train) + len(full.test) == 10
    assert "skipped" in capsys.readouterr().out


def test_a_changed_file_changes_the_fingerprint(paintings, tmp_path):
    before = load_paintings(paintings, tmp_path / "cache", size=32).fingerprint
    target = find_images(paintings)[0]
    Image.new("RGB", (40, 30), (1, 2, 3)).save(target)
    assert load_paintings(paintings, tmp_path / "cache", size=32).fingerprint != before


def test_dataset_items_are_rgb2gray_inputs_and_color_targets():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 256, 256, 3), dtype=np.uint8)
    dataset = ColorizationDataset(images)
    gray, color = dataset[1]
    assert gray.shape == (1, 256, 256) and color.shape == (3, 256, 256)
    assert gray.dtype == color.dtype == torch.float32
    assert 0 <= gray.min() and gray.max() <= 1 and 0 <= color.min() and color.max() <= 1
    np.testing.assert_allclose(gray[0].numpy(), rgb2gray(images[1]), atol=1e-6)
    np.testing.assert_allclose(color.permute(1, 2, 0).numpy() * 255, images[1], atol=1e-4)


def test_builtin_files_are_the_ones_their_checksums_name():
    for folder, count in ((builtin.PAINTINGS, 499), (builtin.FRUITS, 6000)):
        files = builtin.verified_files(folder)  # raises on a missing or altered file
        on_disk = {p for p in folder.rglob("*.jpg")}
        assert len(files) == count and set(files) == on_disk  # every image listed, nothing unlisted


def test_the_package_data_patterns_ship_every_builtin_file():
    parser = configparser.ConfigParser()
    parser.read(builtin.ROOT.parents[2] / "setup.cfg")
    patterns = parser["options.package_data"]["torchbearer_colorize.data.builtin"].replace("\n", " ").split(",")
    shipped = {path for pattern in patterns for path in builtin.ROOT.glob(pattern.strip())}
    for folder in (builtin.PAINTINGS, builtin.FRUITS):
        listed = {folder / line.split("  ", 1)[1] for line in (folder / "SHA256SUMS").read_text().splitlines()}
        assert listed | {folder / "SHA256SUMS", folder / "SOURCES.md"} <= shipped


def test_builtin_paintings_split_by_painting_both_painters_on_both_sides():
    splits = builtin.painting_split(builtin.verified_files(builtin.PAINTINGS))
    names = {split: [p.relative_to(builtin.PAINTINGS).as_posix() for p in files] for split, files in splits.items()}
    assert (len(names["train"]), len(names["test"])) == (400, 99)
    assert not set(names["train"]) & set(names["test"])  # no painting on both sides
    for split in names:
        groups = builtin.by_folder(names[split])
        assert set(groups) == {"Monet", "Van Gogh"} and groups["Monet"][:2] == [0, 2]  # interleaved
    monet = sorted(p.name for p in (builtin.PAINTINGS / "monet").iterdir())
    assert [n for n in names["test"] if n.startswith("monet/")] == [f"monet/{n}" for n in monet[4::5]]
    assert {name: len(idx) for name, idx in builtin.by_folder(names["test"]).items()} == {"Monet": 60, "Van Gogh": 39}
    assert builtin.by_folder(["a.jpg", "b.jpg"]) is None and builtin.by_folder(["x/a.jpg", "x/b.jpg"]) is None
    assert builtin.EPOCH_FACTOR == round(builtin.REPORT_TRAIN_IMAGES / len(names["train"]))


def test_builtin_paintings_load_split_and_limit(tmp_path):
    splits = load_paintings(None, tmp_path, limit=4)
    assert splits.train.shape == (4, 256, 256, 3) and splits.test.shape == (4, 256, 256, 3)
    assert splits.label == builtin.PAINTINGS_LABEL and splits.test_names[0].startswith("monet/")
    again = load_paintings(None, tmp_path, limit=4)  # from the cache: the same images, the same identity
    np.testing.assert_array_equal(again.train, splits.train)
    assert again.fingerprint == splits.fingerprint != load_paintings(None, tmp_path, limit=3).fingerprint


@pytest.mark.parametrize("damage, match", [("remove", "is missing"), ("alter", "is altered")])
def test_a_missing_or_altered_builtin_image_is_named_with_what_to_do(tmp_path, monkeypatch, damage, match):
    copy = tmp_path / "paintings"
    shutil.copytree(builtin.PAINTINGS, copy)
    victim = copy / "vangogh" / "00180.jpg"
    if damage == "remove":
        victim.unlink()
    else:
        victim.write_bytes(victim.read_bytes()[:-10])
    monkeypatch.setattr(builtin, "PAINTINGS", copy)
    with pytest.raises(UserError, match=f"{victim} {match}.*git checkout --"):
        load_paintings(None, tmp_path / "cache", limit=2)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())  # nothing half-written


def test_strict_refuses_unreadable_files_and_names_them(paintings, tmp_path):
    (paintings / "artist2" / "not-an-image.jpg").write_text("hello")
    with pytest.raises(UserError, match="not-an-image.jpg") as err:
        load_paintings(paintings, tmp_path / "cache", size=32, strict=True)
    assert "--strict" in str(err.value)


@pytest.mark.parametrize("shape", [(1, 1), (10, 4000)])
def test_tiny_and_very_wide_images_load(tmp_path, shape):
    path = tmp_path / "odd.png"
    Image.new("RGB", shape[::-1], (10, 200, 30)).save(path)
    assert load_rgb(path, size=64)[0, 0].tolist() == [10, 200, 30]
