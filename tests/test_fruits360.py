"""Fruits-360 loader and downloader, on tiny trees in its layout; downloads come from a local server."""
import functools
import http.server
import shutil
import threading

import numpy as np
import pytest
from PIL import Image

from torchbearer_colorize.data import paintings
from torchbearer_colorize.data.fruits360 import choose_classes, download_fruits360, find_root, load_fruits360
from torchbearer_colorize.errors import UserError

# Five classes in both splits (4 training and 2 test images each) plus one only in Training.
CLASSES = ["Apple Braeburn", "Banana", "Cherry 1", "Kiwi", "Tomato 4"]
TRAIN_ONLY = "Pear Stone"


def write_fruits(root, classes=CLASSES, n_train=4, n_test=2, train_only=(TRAIN_ONLY,), seed=0):
    """A Fruits-360 tree under ``root``: ``Training/<class>/i_100.jpg`` and ``Test/<class>/...``."""
    rng = np.random.default_rng(seed)
    plan = ([("Training", name, n_train) for name in [*classes, *train_only]]
            + [("Test", name, n_test) for name in classes])
    for split, name, count in plan:
        folder = root / split / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            pixels = rng.integers(0, 256, (100, 100, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}_100.jpg" if i % 2 == 0 else folder / f"{i}_100.png")
    return root


@pytest.fixture(scope="module")
def fruits(tmp_path_factory):
    return write_fruits(tmp_path_factory.mktemp("fruits") / "fruits-360")


def test_load_by_count_picks_evenly_spaced_classes(fruits, tmp_path):
    splits = load_fruits360(fruits, classes=2, cache_dir=tmp_path / "cache")
    # positions 0 and 5 // 2 = 2 of the five sorted available classes
    assert {name.split("/")[0] for name in splits.train_names} == {"Apple Braeburn", "Cherry 1"}
    assert splits.train.shape == (8, 100, 100, 3) and splits.train.dtype == np.uint8
    assert splits.test.shape == (4, 100, 100, 3) and splits.test.dtype == np.uint8
    assert splits.train_names[0] == "Apple Braeburn/0_100.jpg"
    assert splits.label == "Fruits-360 (2 classes)"
    # the pixels are the files' own (JPEG decoding, no resize: they are 100 x 100 already)
    original = np.array(Image.open(fruits / "Test" / splits.test_names[0]).convert("RGB"))
    assert np.array_equal(splits.test[0], original)


def test_load_by_names(fruits, tmp_path):
    splits = load_fruits360(fruits, classes=["Kiwi", "Banana", "Kiwi"], cache_dir=tmp_path / "cache")
    assert {name.split("/")[0] for name in splits.test_names} == {"Banana", "Kiwi"}
    assert (len(splits.train), len(splits.test)) == (8, 4)
    assert splits.label == "Fruits-360 (2 classes)"


def test_class_only_in_training_is_not_available(fruits, tmp_path):
    splits = load_fruits360(fruits, classes=5, cache_dir=tmp_path / "cache")
    assert not any(name.startswith(TRAIN_ONLY) for name in splits.train_names)
    assert len(splits.train) == 20
    with pytest.raises(UserError, match="--classes 6: choose between 1 and 5"):
        load_fruits360(fruits, classes=6, cache_dir=tmp_path / "cache")
    with pytest.raises(UserError, match="unknown Fruits-360 class"):
        load_fruits360(fruits, classes=[TRAIN_ONLY], cache_dir=tmp_path / "cache")


def test_limit_is_round_robin_across_classes(fruits, tmp_path):
    splits = load_fruits360(fruits, classes=["Banana", "Kiwi", "Tomato 4"], limit=4, cache_dir=tmp_path / "cache")
    assert splits.train_names == ["Banana/0_100.jpg", "Kiwi/0_100.jpg", "Tomato 4/0_100.jpg", "Banana/1_100.png"]
    assert splits.test_names == ["Banana/0_100.jpg", "Kiwi/0_100.jpg", "Tomato 4/0_100.jpg", "Banana/1_100.png"]
    assert splits.train.shape == (4, 100, 100, 3)
    # a limit larger than a split keeps the whole split
    assert len(load_fruits360(fruits, classes=1, limit=100, cache_dir=tmp_path / "cache").test) == 2


def test_second_load_is_a_cache_hit(fruits, tmp_path, monkeypatch):
    first = load_fruits360(fruits, classes=3, cache_dir=tmp_path / "cache")

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again despite the cache")
    monkeypatch.setattr(paintings, "load_many", no_decoding)
    again = load_fruits360(fruits, classes=3, cache_dir=tmp_path / "cache")
    assert np.array_equal(first.train, again.train) and np.array_equal(first.test, again.test)
    assert (first.train_names, first.fingerprint) == (again.train_names, again.fingerprint)
    with pytest.raises(AssertionError, match="decoded again"):  # other classes are another cache entry
        load_fruits360(fruits, classes=2, cache_dir=tmp_path / "cache")


def test_root_one_or_two_levels_up_is_found(fruits, tmp_path):
    assert find_root(fruits) == fruits
    assert find_root(fruits.parent) == fruits
    kaggle = tmp_path / "archive" / "fruits-360_dataset" / "fruits-360"  # Kaggle's nesting
    (kaggle / "Training").mkdir(parents=True)
    (kaggle / "Test").mkdir()
    assert find_root(tmp_path / "archive") == kaggle


@pytest.mark.parametrize("make, match", [
    (lambda p: p / "missing", "does not exist"),
    (lambda p: (p / "Training" / "Kiwi").mkdir(parents=True) or p, "holds no Training/ and Test/"),
])
def test_wrong_layout_names_the_expected_one(tmp_path, make, match):
    root = make(tmp_path)
    with pytest.raises(UserError, match=match) as err:
        find_root(root)
    message = str(err.value)
    assert "--data-root" in message and "Training/<class>" in message and "Test/<class>" in message


def test_hidden_staging_folders_are_not_taken_for_the_data_set(tmp_path):
    write_fruits(tmp_path / ".fruits360-download-x", classes=["Kiwi"], train_only=())
    with pytest.raises(UserError, match="holds no Training/ and Test/"):
        find_root(tmp_path)


def test_choose_classes_rules():
    names = [f"class {i:03d}" for i in range(131)]
    picked = choose_classes(list(reversed(names)), 30)
    assert picked == [names[i * 131 // 30] for i in range(30)] and len(set(picked)) == 30
    assert picked[0] == "class 000" and picked == sorted(picked)
    assert choose_classes(names, 131) == names
    assert choose_classes(names, np.int64(1)) == ["class 000"]
    assert choose_classes(names, "class 007") == ["class 007"]
    for bad in (0, -1, 132):
        with pytest.raises(UserError, match="--classes"):
            choose_classes(names, bad)
    with pytest.raises(UserError, match="'Apple Braebrun'.*known classes include 'Apple Braeburn'"):
        choose_classes(CLASSES, ["Apple Braebrun", "Kiwi"])
    with pytest.raises(UserError, match="'Durian'.*known classes include 'Apple Braeburn', 'Banana'"):
        choose_classes(CLASSES, ["Durian"])  # nothing close: the first few names
    with pytest.raises(UserError, match="names no class"):
        choose_classes(names, [])


# --- download ------------------------------------------------------------------------------------

@pytest.fixture
def server(tmp_path, monkeypatch):
    """A local HTTP server for ``tmp_path/served``; yields ``(base url, folder, list of request paths)``."""
    monkeypatch.setenv("no_proxy", "127.0.0.1")  # never send these requests through a configured proxy
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    served = tmp_path / "served"
    served.mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_request(self, code="-", size="-"):
            requests.append(self.path)

        def log_message(self, *args):
            pass  # keep pytest's output clean

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Handler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", served, requests
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.mark.parametrize("fmt, suffix", [("zip", ".zip"), ("gztar", ".tar.gz")])
def test_download_extracts_loads_and_is_skipped_the_second_time(server, tmp_path, fmt, suffix):
    base_url, served, requests = server
    top = tmp_path / "build" / "Fruit-Images-Dataset-x"  # the archive's top folder, like GitHub's
    write_fruits(top, classes=CLASSES[:3], n_train=2, n_test=1, train_only=())
    archive = shutil.make_archive(str(served / "fruits"), fmt, root_dir=top.parent, base_dir=top.name)
    url = f"{base_url}/{archive.rsplit('/', 1)[1]}"
    assert url.endswith(suffix)
    messages = []

    root = download_fruits360(tmp_path / "data", url=url, log=messages.append)
    assert root == tmp_path / "data" / "Fruit-Images-Dataset-x"
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["Fruit-Images-Dataset-x"]  # no archive left
    assert requests and url in messages[0]
    splits = load_fruits360(tmp_path / "data", classes=3, cache_dir=tmp_path / "cache")
    assert (len(splits.train), len(splits.test)) == (6, 3)

    seen = len(requests)
    assert download_fruits360(tmp_path / "data", url=url, log=messages.append) == root
    assert len(requests) == seen and "not downloading" in messages[-1]


def test_download_404_names_the_url_and_leaves_nothing(server, tmp_path):
    base_url, _, requests = server
    url = f"{base_url}/missing.zip"
    with pytest.raises(UserError) as err:
        download_fruits360(tmp_path / "data", url=url, log=lambda message: None)
    message = str(err.value)
    assert url in message and "404" in message and "--url" in message and "--data-root" in message
    assert requests and list((tmp_path / "data").iterdir()) == []


def test_download_of_a_non_archive_is_a_user_error(server, tmp_path):
    base_url, served, _ = server
    (served / "fruits.zip").write_text("<html>not a zip</html>")
    with pytest.raises(UserError, match="BadZipFile") as err:
        download_fruits360(tmp_path / "data", url=f"{base_url}/fruits.zip", log=lambda message: None)
    assert f"{base_url}/fruits.zip" in str(err.value)
    assert list((tmp_path / "data").iterdir()) == []  # no partial archive to be mistaken for a good one


def test_download_of_an_archive_without_the_layout_is_a_user_error(server, tmp_path):
    base_url, served, _ = server
    (tmp_path / "build" / "photos").mkdir(parents=True)
    (tmp_path / "build" / "photos" / "a.txt").write_text("x")
    shutil.make_archive(str(served / "other"), "zip", root_dir=tmp_path / "build")
    with pytest.raises(UserError, match="does not hold Fruits-360") as err:
        download_fruits360(tmp_path / "data", url=f"{base_url}/other.zip", log=lambda message: None)
    assert f"{base_url}/other.zip" in str(err.value)
