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


@pytest.mark.parametrize("name, kwargs", [("small_classes", {"n_bins": 261}), ("small_ab", {})])
def test_the_colour_classification_ablation_decodes_itself(tmp_path, name, kwargs):
    """The classification model and the a*b* regression predict ab at 64 x 64: each decodes onto the input's L."""
    from torchbearer_colorize.models import build_model
    torch.manual_seed(0)
    path = tmp_path / f"{name}.pt"
    save_model(path, RunSpec("c", model=name, model_kwargs=kwargs), build_model(name, **kwargs))
    photo = np.zeros((30, 20, 3), dtype=np.uint8)
    photo[:, 10:] = 200  # half black, half light: the output keeps the photo's own lightness
    out = load_colorizer(path)(photo)
    assert out.shape == (30, 20, 3) and out[:, :10].mean() < 40 and out[:, 10:].mean() > 150


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


def test_a_file_that_is_not_an_image_is_skipped_in_one_line_and_the_others_go_on(tmp_path, checkpoint, capsys):
    good, text = photo(tmp_path / "good.png"), tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(SystemExit) as exit_:
        main([str(text), str(good), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert exit_.value.code == 1 and [line for line in err.splitlines() if str(text) in line] == [
        f"skipped: {text} cannot be read as an image (UnidentifiedImageError); give a jpg, png, bmp, webp or tif file"]
    assert written(tmp_path / "out") == ["good_colorized.png"]
    assert "1 colorized" in out and "1 skipped (not images)" in out


def test_a_missing_path_and_overwriting_are_refused_before_any_work(tmp_path, checkpoint, capsys):
    good = photo(tmp_path / "good.png")
    with pytest.raises(SystemExit) as exit_:
        main([str(good), str(tmp_path / "gone.jpg"), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2 and "gone.jpg does not exist" in capsys.readouterr().err
    assert not (tmp_path / "out" / "good_colorized.png").exists()  # nothing half-done
    victim, source = photo(tmp_path / "x_colorized.png"), photo(tmp_path / "x.png")
    before = victim.read_bytes()
    for force in ([], ["--force"]):  # x.png's output would be x_colorized.png, itself an input
        with pytest.raises(SystemExit) as exit_:
            main([str(victim), str(source), "--checkpoint", str(checkpoint), "--out", str(tmp_path), *force])
        assert exit_.value.code == 2 and "would be overwritten" in capsys.readouterr().err
        assert victim.read_bytes() == before
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x_colorized.png").hardlink_to(source)  # the same file under another name
    with pytest.raises(SystemExit):
        main([str(source), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "out"), "--force"])
    assert "would be overwritten" in capsys.readouterr().err and source.read_bytes() == victim.read_bytes()
    with pytest.raises(SystemExit):  # two photos, one output
        main([str(source), str(photo(tmp_path / "out" / "x.jpg")), "--checkpoint", str(checkpoint),
              "--out", str(tmp_path / "elsewhere")])
    assert "would both be written to" in capsys.readouterr().err and not (tmp_path / "elsewhere").exists()


def mixed_folder(root):
    """Three photos in nested folders, a text file, a broken .jpg and a hidden file."""
    for name in ("top.png", "trip/day1/beach.jpg", "trip/street.bmp"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        photo(root / name, (24, 16))
    (root / "notes.txt").write_text("not an image")
    (root / "trip" / "broken.jpg").write_text("not a jpeg")
    (root / ".thumbnail.png").write_text("hidden: left out")
    return root


OUTPUTS = ["top_colorized.png", "trip/day1/beach_colorized.png", "trip/street_colorized.png"]


def written(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_a_folder_is_searched_recursively_and_keeps_its_sub_folders(tmp_path, checkpoint, capsys):
    photos = mixed_folder(tmp_path / "photos")
    with pytest.raises(SystemExit) as exit_:
        main([str(photos), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert exit_.value.code == 1 and written(tmp_path / "out") == OUTPUTS
    skipped = [line for line in err.splitlines() if line.startswith("skipped: ")]
    assert skipped == [f"skipped: {photos / 'notes.txt'} is not an image (.txt)",
                       f"skipped: {photos / 'trip' / 'broken.jpg'} cannot be read as an image "
                       "(UnidentifiedImageError); give a jpg, png, bmp, webp or tif file"]
    assert "4/4" in err  # the progress bar (to stderr), over the files with an image extension
    assert "3 colorized" in out and f"{photos / 'trip' / 'street.bmp'} -> {tmp_path / 'out' / 'trip'}" in out
    assert Image.open(tmp_path / "out" / "trip" / "day1" / "beach_colorized.png").size == (24, 16)


def test_a_folder_of_images_only_exits_0(tmp_path, checkpoint):
    photos = tmp_path / "photos"
    (photos / "a").mkdir(parents=True)
    photo(photos / "a" / "one.png")
    photo(photos / "two.jpg")
    main([str(photos), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "out")])  # no SystemExit: 0
    assert written(tmp_path / "out") == ["a/one_colorized.png", "two_colorized.png"]


def test_a_rerun_keeps_existing_outputs_unless_force(tmp_path, checkpoint, capsys):
    photos = mixed_folder(tmp_path / "photos")
    argv = [str(photos), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit):
        main(argv)
    marked = tmp_path / "out" / OUTPUTS[0]
    marked.write_bytes(b"an earlier output")  # a rerun that wrote it again would replace these bytes
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(argv)
    out = capsys.readouterr().out
    assert marked.read_bytes() == b"an earlier output" and "0 colorized" in out and "3 kept" in out
    with pytest.raises(SystemExit):
        main(argv + ["--force"])
    assert "3 colorized" in capsys.readouterr().out and Image.open(marked).size == (24, 16)


def test_an_out_inside_the_folder_is_left_out_of_the_search_and_one_holding_it_refused(tmp_path, checkpoint, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    photo(photos / "a.png")
    for _ in range(2):  # the second run does not take the first run's output for an input
        main([str(photos), "--checkpoint", str(checkpoint), "--out", str(photos / "colorized")])
    assert written(photos) == ["a.png", "colorized/a_colorized.png"]
    for out in (photos, tmp_path):
        with pytest.raises(SystemExit) as exit_:
            main([str(photos), "--checkpoint", str(checkpoint), "--out", str(out)])
        assert exit_.value.code == 2 and f"--out {out} holds the folder {photos}" in capsys.readouterr().err
    assert written(photos) == ["a.png", "colorized/a_colorized.png"]


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
    assert "tbc-colorize PHOTO_OR_FOLDER" in parser().description  # the module's own usage line agrees
