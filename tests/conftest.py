import os

# OpenMP threads that wait by spinning (libgomp's default) stall whenever another process holds a core: torch's
# operations then take 10-20 times longer on a 2-core machine that trains something in the background (an
# inception_v3 forward of one image: 5 s instead of 0.3 s). Waiting threads that sleep cost a quiet machine
# little and change no number. Set before torch is first imported (below); subprocesses inherit it. An
# OMP_WAIT_POLICY already set wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import ipaddress  # noqa: E402
import socket  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torchbearer  # noqa: E402
from PIL import Image  # noqa: E402


def loopback(address):
    """Whether a socket address stays on this machine: a loopback IP or ``localhost`` (a Unix socket's path too)."""
    if not isinstance(address, tuple):
        return True
    try:
        return ipaddress.ip_address(address[0].split("%")[0]).is_loopback
    except ValueError:
        return address[0] == "localhost"


@pytest.fixture(autouse=True, scope="session")
def no_network():
    """No test touches the network: a socket connecting anywhere but this machine fails the test (pytest's
    Failed is no Exception, so code that handles network errors cannot swallow it). Loopback stays open for
    the tests' own local servers. Subprocesses are not covered: their commands must not need the network
    (``experiments.report --no-pretrained``, say)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("connect", "connect_ex"):
            def guarded(sock, address, real=getattr(socket.socket, name)):
                if not loopback(address):
                    pytest.fail(f"a test tried to reach the network ({address!r}); tests must run offline")
                return real(sock, address)
            patch.setattr(socket.socket, name, guarded)
        yield


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


QUICK_SMALL = 2  # images a split (and batch size) of --quick under the ``small_quick`` fixture


@pytest.fixture
def small_quick(monkeypatch):
    """``--quick`` trains on 2 images a split in batches of 2 (not 8 in batches of 4) in this test: for tests
    of an experiment's flow and outputs (tables, pages, reuse), which no image count changes, at half the time.
    Explicit ``--limit``/``--batch-size`` still win, as with the real defaults."""
    from torchbearer_colorize.training import cli as options
    monkeypatch.setattr(options, "QUICK_IMAGES", QUICK_SMALL)
    monkeypatch.setattr(options, "QUICK_BATCH", QUICK_SMALL)


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
