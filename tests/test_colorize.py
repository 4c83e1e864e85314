import configparser
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.color import gray2rgb, lab2rgb, rgb2gray, rgb2lab

from torchbearer_colorize.colorize import Colorizer, load_colorizer, main, parser
from torchbearer_colorize.models import SmallColorizer, VAELatent
from torchbearer_colorize.training.runs import RunSpec
from torchbearer_colorize.training.store import save_model

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def checkpoint(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "model.pt"
    save_model(path, RunSpec("x", model="small"), SmallColorizer())
    return path


def photo(path, size=(301, 173), mode="RGB"):
    pixels = np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).convert(mode).save(path)
    return path


def test_colorize_keeps_size_and_the_photos_own_lightness(tmp_path, checkpoint, capsys):
    color, gray = photo(tmp_path / "colour.png"), photo(tmp_path / "gray.jpg", (64, 200), "L")
    main([str(color), str(gray), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "out")])
    written = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in written] == ["colour_colorized.png", "gray_colorized.png"]
    for source, result in zip((color, gray), written):
        original, colorized = Image.open(source), Image.open(result)
        assert colorized.size == original.size and colorized.mode == "RGB"
        expected_l = rgb2lab(gray2rgb(rgb2gray(np.asarray(original.convert("RGB")))))[..., 0]
        got_l = rgb2lab(np.asarray(colorized))[..., 0]
        assert np.abs(got_l - expected_l).mean() < 1.0  # the detail is the photo's own (up to 8-bit rounding)
    assert "colour.png ->" in capsys.readouterr().out


def test_photos_are_colorized_upright(tmp_path, checkpoint):
    source = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # EXIF orientation: shown rotated by 90 degrees
    Image.new("RGB", (30, 20), (200, 120, 40)).save(source, exif=exif)
    main([str(source), "--checkpoint", str(checkpoint), "--out", str(tmp_path)])
    assert Image.open(tmp_path / "phone_colorized.png").size == (20, 30)


def test_load_colorizer_api(checkpoint):
    colorizer = load_colorizer(checkpoint)
    out = colorizer(np.zeros((40, 50, 3), dtype=np.uint8))
    assert out.shape == (40, 50, 3) and out.dtype == np.uint8


class Yellow(torch.nn.Module):
    """A colorizer that predicts pure yellow everywhere: on a dark photo its ab lie beyond Lab's reach."""

    def forward(self, gray):
        return torch.tensor([1.0, 1.0, 0.0]).reshape(1, 3, 1, 1).expand(len(gray), 3, *gray.shape[2:])


def test_colours_beyond_lab_are_clipped_without_a_warning():
    dark = np.full((40, 60), 12, dtype=np.uint8)
    yellow_ab = rgb2lab(np.array([[[1.0, 1.0, 0.0]]]))[0, 0, 1:]
    lab = np.dstack([rgb2lab(gray2rgb(dark / 255))[..., 0], np.full((40, 60, 2), yellow_ab)])
    with pytest.warns(UserWarning, match="negative Z values"):  # what skimage does with these colours
        lab2rgb(lab)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        colorized = Colorizer(Yellow())(dark)
    assert colorized.shape == (40, 60, 3)


def test_the_classification_model_decodes_itself(tmp_path):
    from torchbearer_colorize.models.classification import ClassColorizer
    torch.manual_seed(0)
    path = tmp_path / "classes.pt"
    model = ClassColorizer(n_bins=261)
    save_model(path, RunSpec("c", model="small_classes", model_kwargs={"n_bins": 261}), model)
    out = load_colorizer(path)(np.full((30, 20, 3), 128, dtype=np.uint8))
    assert out.shape == (30, 20, 3)


def vae_checkpoint(tmp_path):
    path = tmp_path / "vae.pt"
    save_model(path, RunSpec("v", model="vae"), VAELatent())
    return path


def denoiser_checkpoint(tmp_path):
    path = tmp_path / "denoise.pt"
    save_model(path, RunSpec("d", model="small", model_kwargs={"in_channels": 3}), SmallColorizer(in_channels=3))
    return path


def inception_decoder_checkpoint(tmp_path):
    path = tmp_path / "decoder.pt"
    torch.save({"model": "inception_decoder", "model_kwargs": {}, "state_dict": {}}, path)
    return path


def junk(tmp_path):
    path = tmp_path / "junk.pt"
    path.write_bytes(b"not a checkpoint")
    return path


def notes(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n")  # to torch.load, a pickle opcode whose memo key is b"ust " (KeyError)
    return path


def random_bytes(tmp_path):
    path = tmp_path / "random.pt"
    path.write_bytes(b"\x80\x04" + np.random.default_rng(0).bytes(4096))  # a pickle header: torch warns, then fails
    return path


def saved(obj):
    def make(tmp_path):
        path = tmp_path / "other.pt"
        torch.save(obj, path)
        return path
    return make


@pytest.mark.parametrize("make, message", [
    (vae_checkpoint, "not a colorizer"),
    (denoiser_checkpoint, "not a colorizer"),
    (inception_decoder_checkpoint, "encoder is not stored"),
    (junk, "is not a checkpoint"),
    (notes, "is not a checkpoint"),
    (random_bytes, "is not a checkpoint"),
    (saved({"state_dict": {}}), "is not a checkpoint"),
    (saved(Path("x")), "is not a checkpoint"),  # an object weights_only unpickling refuses
    (lambda tmp_path: tmp_path / "missing.pt", "does not exist"),
])
def test_bad_checkpoints_are_named(tmp_path, capsys, recwarn, make, message):
    source = photo(tmp_path / "p.png")
    bad = make(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main([str(source), "--checkpoint", str(bad), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and message in err and str(bad) in err
    assert len(err.splitlines()) == 1
    if message == "is not a checkpoint":  # says what it expected, not cut off
        assert err.rstrip().endswith("expected a model.pt that an experiment wrote (each prints their paths)")
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]  # no torch warning leaks
    assert not (tmp_path / "out" / "p_colorized.png").exists()


def test_bad_photos_and_overwriting_are_refused_before_any_work(tmp_path, checkpoint, capsys):
    good, text = photo(tmp_path / "good.png"), tmp_path / "notes.png"
    text.write_text("not an image")
    cases = [([str(good), str(text)], str(text)), ([str(tmp_path / "gone.jpg")], "gone.jpg")]
    for photos, named in cases:
        with pytest.raises(SystemExit) as exit_:
            main(photos + ["--checkpoint", str(checkpoint), "--out", str(tmp_path / "out")])
        assert exit_.value.code == 2 and named in capsys.readouterr().err
    assert not (tmp_path / "out" / "good_colorized.png").exists()  # nothing half-done
    victim, source = photo(tmp_path / "x_colorized.png"), photo(tmp_path / "x.png")
    before = victim.read_bytes()
    with pytest.raises(SystemExit):  # x.png's output would be x_colorized.png, itself an input
        main([str(victim), str(source), "--checkpoint", str(checkpoint), "--out", str(tmp_path)])
    assert "would be overwritten" in capsys.readouterr().err and victim.read_bytes() == before
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x_colorized.png").hardlink_to(source)  # the same file under another name
    with pytest.raises(SystemExit):
        main([str(source), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "out")])
    assert "would be overwritten" in capsys.readouterr().err


def test_bf16_is_asked_for_and_refused_without_native_bf16(tmp_path, checkpoint, monkeypatch, capsys):
    """--bf16 runs the model under bf16 autocast (colours within a few levels of fp32's, not equal); without it the
    output is fp32's; on a CPU without native bf16 it is refused in one line, exit 2, before any output."""
    from torchbearer_colorize.training import prepare
    source, args = photo(tmp_path / "p.png"), ["--checkpoint", str(checkpoint), "--device", "cpu"]
    monkeypatch.setattr(prepare, "native_bf16", lambda: False)
    with pytest.raises(SystemExit) as exit_:
        main([str(source), *args, "--out", str(tmp_path / "refused"), "--bf16"])
    assert exit_.value.code == 2 and "native bf16" in capsys.readouterr().err and not (tmp_path / "refused").exists()
    monkeypatch.setattr(prepare, "native_bf16", lambda: True)  # an emulated bf16 computes the same, slower
    main([str(source), *args, "--out", str(tmp_path / "bf16"), "--bf16"])
    assert "bf16 autocast" in capsys.readouterr().out
    main([str(source), *args, "--out", str(tmp_path / "fp32")])
    bf16, fp32 = (np.asarray(Image.open(tmp_path / kind / "p_colorized.png"), dtype=int) for kind in ("bf16", "fp32"))
    expected = load_colorizer(checkpoint)(Image.open(source))
    assert np.array_equal(fp32, expected)  # the default: fp32, as before
    assert not np.array_equal(bf16, fp32) and np.abs(bf16 - fp32).mean() < 2


def test_success_is_exit_status_0_as_the_console_script_runs_it(tmp_path):
    """The console-script wrapper is ``sys.exit(main())``: main must return None (a list exits 1, printed)."""
    source = photo(tmp_path / "p.png")
    with pytest.raises(SystemExit) as exit_:
        sys.exit(main([str(source), "--out", str(tmp_path / "out")]))
    assert exit_.value.code is None and (tmp_path / "out" / "p_colorized.png").exists()


@pytest.mark.slow
def test_the_declared_console_script_exits_0(tmp_path):
    """setup.cfg's tbc-colorize entry point run the way pip's wrapper runs it, on this checkout's code."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    [entry] = [line for line in config["options.entry_points"]["console_scripts"].splitlines() if line.strip()]
    name, target = (part.strip() for part in entry.split("="))
    module, function = target.split(":")
    code = f"import sys; from {module} import {function}; sys.argv[0] = {name!r}; sys.exit({function}())"
    source = photo(tmp_path / "p.png")
    done = subprocess.run([sys.executable, "-c", code, str(source), "--out", str(tmp_path / "out")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert name == "tbc-colorize" and done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout.splitlines()[-1] == f"{source} -> {tmp_path / 'out' / 'p_colorized.png'}"


def test_usage_names_the_console_script_as_the_readme_does():
    usage = parser().format_usage()
    assert usage.startswith("usage: tbc-colorize ")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "tbc-colorize photo.jpg" in readme and "python -m torchbearer_colorize.colorize" in readme
    assert "tbc-colorize PHOTO" in parser().description  # the module's own usage line agrees
