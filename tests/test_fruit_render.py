import numpy as np
import pytest

from torchbearer_colorize.data import fruit_render as fr
from torchbearer_colorize.data.paintings import ImageSplits
from torchbearer_colorize.errors import UserError


def _object(image):
    """Pixels that are not background white."""
    return np.abs(image.astype(np.int16) - 255).max(axis=-1) > 8


def _mad(a, b):
    return np.abs(a.astype(np.float32) - b.astype(np.float32)).mean(axis=(-3, -2, -1))


# Per-channel mean and standard deviation of a few images, to a few thousandths: far tighter than any
# meaningful change of the recipe, far looser than last-bit differences between numpy builds. If these
# move, the images changed: bump VERSION (stored arrays and runs hold the old ones), then update them.
@pytest.mark.parametrize("args, mean, std", [
    (("train", 0, 0), (187.5746, 145.1038, 145.5560), (76.8558, 115.4052, 114.8102)),
    (("test", 17, 3), (178.8887, 179.4466, 195.8836), (92.5990, 92.0158, 74.8110)),
    (("train", 24, 77), (242.2043, 234.8062, 225.4348), (37.5147, 54.5114, 79.4786)),
])
def test_render_matches_the_recipe_of_this_version(args, mean, std):
    pixels = fr.render(*args).reshape(-1, 3).astype(np.float64)
    assert np.allclose(pixels.mean(axis=0), mean, rtol=0, atol=2e-3), pixels.mean(axis=0)
    assert np.allclose(pixels.std(axis=0), std, rtol=0, atol=2e-3), pixels.std(axis=0)


_SLOW = pytest.mark.slow


@pytest.mark.parametrize("split, index", [
    ("train", 0), pytest.param("train", 149, marks=_SLOW), pytest.param("test", 0, marks=_SLOW),
    pytest.param("test", 49, marks=_SLOW)])
def test_every_class_renders_a_fruit_on_white(split, index):
    for class_index in range(len(fr.CLASSES)):
        image = fr.render(split, class_index, index)
        assert image.shape == (100, 100, 3) and image.dtype == np.uint8
        assert (image[[0, 0, -1, -1], [0, -1, 0, -1]] == 255).all()
        assert 0.05 < _object(image).mean() < 0.70, fr.CLASSES[class_index]


def test_render_is_deterministic_and_sized():
    for args in (("train", 0, 7), ("test", 12, 3), ("train", 29, 149)):
        assert np.array_equal(fr.render(*args), fr.render(*args))
    assert np.array_equal(fr.render("train", 4, 10), fr.render("train", 4, 10))
    assert fr.render("test", 4, 10, size=64).shape == (64, 64, 3)
    for bad in (("train", 0, 150), ("test", 0, 50), ("train", 30, 0)):
        with pytest.raises(IndexError):
            fr.render(*bad)
    with pytest.raises(ValueError):
        fr.render("val", 0, 0)


@pytest.mark.slow
def test_classes_differ_in_mean_color():
    means = []
    for class_index in range(len(fr.CLASSES)):
        images = np.stack([fr.render("train", class_index, i) for i in range(6)])
        means.append(images[_object(images)].mean(axis=0))
    means = np.array(means)
    distances = np.linalg.norm(means[:, None] - means[None], axis=-1) + np.eye(len(means)) * 1e9
    assert distances.min() > 3
    red, green, blue = (means[fr.CLASSES.index(name)] for name in ("red apple", "green apple", "blueberry"))
    assert red[0] > red[1] + 60 and green[1] > green[0] and blue[2] > blue[0] + 30


@pytest.mark.slow
@pytest.mark.parametrize("name", ["red apple", "banana", "cherry", "watermelon", "strawberry"])
def test_frames_turn_but_stay_alike(name):
    """Every image has a neighbour a small turn away: other pixels, but nearly the same outline."""
    class_index = fr.CLASSES.index(name)
    images = np.stack([fr.render("train", class_index, i) for i in range(fr.TRAIN_PER_CLASS)])
    masks = _object(images)
    for a in range(0, len(images), 5):
        distances = _mad(images[a], images)
        distances[a] = np.inf
        b = distances.argmin()
        assert distances[b] > 0.3  # it turned: no image is a copy of another
        iou = (masks[a] & masks[b]).sum() / (masks[a] | masks[b]).sum()
        assert iou > 0.85  # but a step of 7.2 degrees barely changes the outline


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cherry", "cucumber", "watermelon", "red apple", "carrot"])
def test_test_images_are_not_near_copies_of_training_frames(name):
    class_index = fr.CLASSES.index(name)
    train = np.stack([fr.render("train", class_index, i) for i in range(fr.TRAIN_PER_CLASS)])
    test = np.stack([fr.render("test", class_index, i) for i in range(0, fr.TEST_PER_CLASS, 5)])
    nearest = _mad(test[:, None], train[None]).min(axis=1)
    # Adjacent frames of one instance differ by ~0.7-16 (mean abs, 0-255); other instances by more.
    assert nearest.min() > 3


def test_make_split_with_limit_renders_only_what_it_returns(monkeypatch):
    calls = []

    def fake(split, class_index, index, size=100):
        calls.append((split, class_index, index))
        return np.full((size, size, 3), class_index, np.uint8)

    monkeypatch.setattr(fr, "render", fake)
    images, names = fr.make_split("train", [3, 5, 7], per_class=150, limit=7, size=8)
    assert images.shape == (7, 8, 8, 3) and images.dtype == np.uint8
    assert sorted(calls) == sorted([("train", c, i) for c, i in
                                    [(3, 0), (5, 0), (7, 0), (3, 1), (5, 1), (7, 1), (3, 2)]])
    assert names == ["lemon/train-0000", "pear/train-0000", "kiwi/train-0000", "lemon/train-0001",
                     "pear/train-0001", "kiwi/train-0001", "lemon/train-0002"]
    assert images[:, 0, 0, 0].tolist() == [3, 5, 7, 3, 5, 7, 3]

    calls.clear()
    full, full_names = fr.make_split("test", [0, 1], per_class=50, size=8)
    assert len(calls) == 100 and full.shape == (100, 8, 8, 3)
    assert full_names[:3] == ["red apple/test-0000", "green apple/test-0000", "red apple/test-0001"]
    limited, limited_names = fr.make_split("test", [0, 1], per_class=50, limit=5, size=8)
    assert limited_names == full_names[:5] and np.array_equal(limited, full[:5])  # a prefix
    with pytest.raises(ValueError):
        fr.make_split("test", [0], per_class=51)


@pytest.mark.slow
def test_builtin_fruit_splits_by_count_and_by_name(tmp_path):
    by_count = fr.builtin_fruit_splits(classes=3, cache_dir=tmp_path, limit=6)
    assert isinstance(by_count, ImageSplits) and by_count.label == fr.LABEL
    assert by_count.train.shape == (6, 100, 100, 3) and by_count.test.shape == (6, 100, 100, 3)
    assert by_count.train.dtype == np.uint8
    assert [n.split("/")[0] for n in by_count.train_names] == list(fr.CLASSES[:3]) * 2
    assert by_count.test_names[0] == "red apple/test-0000"
    assert np.array_equal(by_count.train[1], fr.render("train", 1, 0))

    by_name = fr.builtin_fruit_splits(classes=["kiwi", "banana"], cache_dir=tmp_path, limit=4)
    assert [n.split("/")[0] for n in by_name.train_names] == ["kiwi", "banana"] * 2
    assert np.array_equal(by_name.train[1], fr.render("train", fr.CLASSES.index("banana"), 0))
    other_limit = fr.builtin_fruit_splits(classes=3, cache_dir=tmp_path, limit=5)
    assert len({by_count.fingerprint, by_name.fingerprint, other_limit.fingerprint}) == 3

    one = fr.builtin_fruit_splits(classes=["cherry"], cache_dir=tmp_path)
    assert (len(one.train), len(one.test)) == (fr.TRAIN_PER_CLASS, fr.TEST_PER_CLASS)
    assert one.test_names[-1] == "cherry/test-0049"


@pytest.mark.parametrize("classes, match", [
    (0, "--classes"), (31, "--classes 31"), (["durian"], "durian.*red apple"), ([], "--classes"),
    (["kiwi", "kiwi"], "once"),
])
def test_builtin_fruit_splits_rejects_bad_classes(tmp_path, classes, match):
    with pytest.raises(UserError, match=match):
        fr.builtin_fruit_splits(classes=classes, cache_dir=tmp_path, limit=2)


def test_builtin_fruit_splits_reads_its_cache(tmp_path, monkeypatch):
    first = fr.builtin_fruit_splits(classes=2, cache_dir=tmp_path, limit=3)

    def no_rendering(*args, **kwargs):
        raise AssertionError("rendered again despite the cache")

    monkeypatch.setattr(fr, "render", no_rendering)
    second = fr.builtin_fruit_splits(classes=2, cache_dir=tmp_path, limit=3)
    assert np.array_equal(first.train, second.train) and np.array_equal(first.test, second.test)
    assert first.train_names == second.train_names and first.fingerprint == second.fingerprint
