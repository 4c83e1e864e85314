"""Bad input: a clear one-line message naming the file or option, exit status 2, no traceback from
inside torch or PIL, and no table or figure written."""
import pytest
from PIL import Image

from experiments import lr_sweep, vae_fruits
from tests.conftest import cli, write_paintings


def fails(main, argv, capsys, *expected):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    assert "Traceback" not in err
    for text in expected:
        assert text in err, err
    return err


def no_outputs(dirs):
    return not (dirs["out"] / "table.md").exists() and not list(dirs["out"].glob("*.png"))


def test_data_root_that_does_not_exist(dirs, tmp_path, capsys):
    fails(lr_sweep.main, cli(dirs, "--quick", "--data-root", tmp_path / "nope"), capsys, "--data-root", "nope",
          "does not exist")
    assert no_outputs(dirs)


def test_empty_folder_and_folder_without_images(dirs, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    fails(lr_sweep.main, cli(dirs, "--quick", "--data-root", empty), capsys, "holds no images")
    (empty / "notes.txt").write_text("no pictures here")
    (empty / "data.csv").write_text("1,2")
    fails(lr_sweep.main, cli(dirs, "--quick", "--data-root", empty), capsys, "holds no images", str(empty))
    assert no_outputs(dirs)


def test_a_single_image_cannot_be_split(dirs, tmp_path, capsys):
    write_paintings(tmp_path / "one", n=1)
    fails(lr_sweep.main, cli(dirs, "--quick", "--data-root", tmp_path / "one"), capsys, "at least 2")


def test_broken_files_among_good_ones_are_skipped_with_one_warning(dirs, tmp_path, capsys):
    root = write_paintings(tmp_path / "mixed", n=6)
    (root / "zero.jpg").write_bytes(b"")
    (root / "truncated.jpg").write_bytes((root / "artist1" / "painting01.JPG").read_bytes()[:200])
    (root / "text.jpg").write_text("not a picture")
    lr_sweep.main(cli(dirs, "--quick", "--lrs", "0.001", "--data-root", root))
    out = capsys.readouterr().out
    assert out.count("warning: skipped 3 unreadable") == 1  # one warning for all splits
    assert all(name in out for name in ("zero.jpg", "truncated.jpg", "text.jpg"))
    fails(lr_sweep.main, cli(dirs, "--quick", "--lrs", "0.001", "--data-root", root, "--strict"), capsys, "--strict")


def test_decompression_bomb_is_refused_with_a_clear_message(tmp_path, monkeypatch, capsys):
    from torchbearer_colorize.data.paintings import load_paintings
    root = write_paintings(tmp_path / "bomb", n=4)
    Image.new("RGB", (400, 400)).save(root / "huge.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)  # stands in for PIL's 89-megapixel limit
    splits = load_paintings(root, tmp_path / "cache", size=32)
    assert "huge.png" not in splits.train_names + splits.test_names
    assert "decompression bomb" in capsys.readouterr().out


def test_data_set_smaller_than_one_batch_trains(dirs, tmp_path):
    root = write_paintings(tmp_path / "few", n=3)
    results = lr_sweep.main(cli(dirs, "--lrs", "0.001", "--epochs", "1", "--data-root", root))
    assert results[0]["n_train"] == 2 and results[0]["status"] == "finished"


def test_fruits_root_with_the_wrong_layout(dirs, tmp_path, capsys):
    write_paintings(tmp_path / "not-fruits", n=2)
    fails(vae_fruits.main, cli(dirs, "--quick", "--data-root", tmp_path / "not-fruits"), capsys,
          "Training", "Test", "--data-root")


@pytest.mark.parametrize("classes, expected", [("Durian", "Durian"), ("99", "--classes")])
def test_unknown_or_too_many_classes(dirs, capsys, classes, expected):
    fails(vae_fruits.main, cli(dirs, "--quick", "--classes", classes), capsys, "--classes", expected)


def test_output_folder_that_cannot_be_written(dirs, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    fails(lr_sweep.main, cli(dirs, "--quick") + ["--out", str(blocker / "figures")], capsys, "--out", "a-file")
    fails(lr_sweep.main, cli(dirs, "--quick") + ["--runs-dir", str(blocker / "runs")], capsys, "--runs-dir")


def test_the_old_spelling_devices_still_spreads_with_a_one_line_notice(tmp_path, capsys):
    from torchbearer_colorize.training.cli import parse_options
    common = ["--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]
    args = parse_options("lr_sweep", "", argv=["--devices", "cpu,cpu", *common])
    assert args.spread_over == ("cpu", "cpu")
    assert capsys.readouterr().err == "note: --devices is now spelled --spread-over (the old spelling still works)\n"
    assert parse_options("lr_sweep", "", argv=["--spread-over", "cpu,cpu", *common]).spread_over == ("cpu", "cpu")
    assert capsys.readouterr().err == ""
