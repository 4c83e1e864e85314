import numpy as np
import pytest
import torchbearer
from PIL import Image


@pytest.fixture
def dirs(tmp_path):
    """Fresh run store, image cache and output folders for one test."""
    paths = {name: tmp_path / name for name in ("runs", "cache", "out")}
    return paths


def cli(dirs, *extra):
    """Arguments every experiment test passes: its own folders, never the user's."""
    return ["--runs-dir", str(dirs["runs"]), "--cache-dir", str(dirs["cache"]), "--out", str(dirs["out"]),
            "--verbose", "0", *map(str, extra)]


def write_paintings(root, n=10, size=(40, 30), seed=0):
    """``n`` small random colour images in a nested folder tree, with mixed extension case."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        folder = root / f"artist{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        ext = [".png", ".JPG", ".bmp"][i % 3]
        Image.fromarray(pixels).save(folder / f"painting{i:02d}{ext}")
    return root


@pytest.fixture
def paintings(tmp_path):
    return write_paintings(tmp_path / "paintings")


def with_callbacks(trial, *callbacks):
    """``trial`` (an experiment's Trial function) with ``callbacks`` appended to every Trial it builds."""
    def build(run):
        built = trial(run)
        built.state[torchbearer.CALLBACK_LIST].append(list(callbacks))
        return built
    return build
