"""Pictures compare within another CPU's rounding, and a redraw that is the same picture leaves the file."""
import io

import numpy as np
from PIL import Image

from torchbearer_colorize.report import figures


def png(pixels):
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def picture(seed=0, size=(64, 48)):
    return np.random.default_rng(seed).integers(20, 230, (*size, 3))


def test_a_level_off_in_a_few_pixels_is_the_same_picture():
    base = picture()
    rounded = base.copy()
    rounded[3, 5, 0] += 1
    rounded[40, 7, 2] -= 2
    assert figures.same_picture(png(base), png(base))
    assert figures.same_picture(png(base), png(rounded))


def test_a_changed_picture_is_not_the_same():
    base = picture()
    brighter = base.copy()
    brighter[10, 10] += figures.MAX_LEVELS + 1  # one pixel far off
    many = base + 1  # every pixel a level off: a real change, not rounding
    assert not figures.same_picture(png(base), png(brighter))
    assert not figures.same_picture(png(base), png(many))
    assert not figures.same_picture(png(base), png(picture(1)))
    assert not figures.same_picture(png(base), png(picture(size=(64, 50))))


def test_a_redraw_within_tolerance_leaves_the_file_and_a_change_replaces_it(tmp_path):
    path = tmp_path / "grid.png"
    rows = [("truth", np.full((2, 3, 8, 8), 0.5, dtype=np.float32))]
    figures.sample_grid(path, rows, "a grid")
    first = path.read_bytes()
    marker = path.stat().st_mtime_ns
    figures.sample_grid(path, rows, "a grid")
    assert path.read_bytes() == first and path.stat().st_mtime_ns == marker
    figures.sample_grid(path, [("truth", np.full((2, 3, 8, 8), 0.9, dtype=np.float32))], "a grid")
    assert path.read_bytes() != first
