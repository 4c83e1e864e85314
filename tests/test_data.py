import numpy as np
import pytest
import torch
from PIL import Image
from skimage.color import rgb2gray

from torchbearer_colorize.data import ColorizationDataset, find_images, load_paintings, load_rgb, to_rgb
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


def test_builtin_crops_are_deterministic_and_test_comes_from_the_held_out_strip():
    a, name = builtin.make_crop("test", 5)
    b, _ = builtin.make_crop("test", 5)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (256, 256, 3) and name.startswith(builtin.SOURCES[5])
    for source in builtin.SOURCES:
        photo = builtin.source_photo(source)
        train, test = builtin.source_region(photo, "train"), builtin.source_region(photo, "test")
        long_axis = 1 if photo.shape[1] >= photo.shape[0] else 0
        assert train.shape[long_axis] + test.shape[long_axis] == photo.shape[long_axis]
        assert test.shape[long_axis] >= round(photo.shape[long_axis] * builtin.HELD_OUT) - 1


def test_builtin_limit_builds_only_what_it_needs(tmp_path, monkeypatch):
    calls = []
    real = builtin.make_crop
    monkeypatch.setattr(builtin, "make_crop", lambda *a, **k: calls.append(a) or real(*a, **k))
    splits = load_paintings(None, tmp_path, limit=4)
    assert (len(splits.train), len(splits.test)) == (4, 4) and len(calls) == 8
    assert splits.label == builtin.LABEL
    assert builtin.default_sizes() == (1619, 405)


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
