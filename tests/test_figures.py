"""Pictures compare within another CPU's rounding; a figure is drawn only when what it shows changed (its key)."""
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


def test_a_figure_whose_file_has_its_key_is_not_drawn_again_and_a_changed_one_is(tmp_path):
    path = tmp_path / "grid.png"
    calls = []

    def rows(value=0.5):
        calls.append(value)
        return [("truth", np.full((2, 3, 8, 8), value, dtype=np.float32))]
    figures.sample_grid(path, rows, "a grid", source="model A")
    first, marker = path.read_bytes(), path.stat().st_mtime_ns
    figures.sample_grid(path, rows, "a grid", source="model A")  # the same key: neither computed nor drawn
    assert calls == [0.5] and path.read_bytes() == first and path.stat().st_mtime_ns == marker
    figures.sample_grid(path, lambda: rows(0.9), "a grid", source="model B")  # another model: drawn anew
    assert calls == [0.5, 0.9] and path.read_bytes() != first
    figures.sample_grid(path, lambda: rows(0.9), "another title", source="model B")  # another title: drawn anew
    assert calls == [0.5, 0.9, 0.9]


def test_a_picture_without_its_key_is_drawn_whatever_it_shows(tmp_path):
    path = tmp_path / "grid.png"
    path.write_bytes(png(picture()))  # a figure drawn by hand, or by an older version: no key
    assert not figures.drawn(path, figures.figure_key("sample_grid", "a grid", "model A"))
    figures.sample_grid(path, [("truth", np.full((2, 3, 8, 8), 0.5, dtype=np.float32))], "a grid", "model A")
    assert figures.drawn(path, figures.figure_key("sample_grid", "a grid", "model A"))
    assert not figures.drawn(tmp_path / "absent.png", "any")
    (tmp_path / "text.png").write_text("not a picture")
    assert not figures.drawn(tmp_path / "text.png", "any")


def test_a_model_digest_follows_the_weights_not_the_object():
    import torch
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    assert figures.model_digest(a) == figures.model_digest(b)
    with torch.no_grad():
        b.bias[0] += 1e-6
    assert figures.model_digest(a) != figures.model_digest(b)


def test_a_loss_curve_is_keyed_by_its_numbers(tmp_path):
    history = [{"epoch": 1, "train_loss": 0.2, "test_loss": 0.3}, {"epoch": 2, "train_loss": 0.1, "test_loss": 0.2}]
    result, path = {"history": history, "n_train": 10, "settings": {"batch_size": 4}}, tmp_path / "loss.png"
    figures.loss_curve(path, result, "a run")
    first, marker = path.read_bytes(), path.stat().st_mtime_ns
    figures.loss_curve(path, result, "a run")
    assert path.stat().st_mtime_ns == marker
    figures.loss_curve(path, {**result, "history": [history[0], {**history[1], "test_loss": 0.25}]}, "a run")
    assert path.read_bytes() != first
