import contextlib
import csv
import io
import json
import math

import pytest

from experiments import lr_sweep, optimizers
from tests.conftest import cli, write_paintings
from torchbearer_colorize.data.builtin import PAINTINGS_LABEL
from torchbearer_colorize.data.tasks import GRAY_COPY
from torchbearer_colorize.report import figures
from torchbearer_colorize.report.outputs import TRUTH

FIGURES = ("test_loss.png", "table.md", "table.csv")
IN_MEMORY = ("sample_rows", "figure_source", "table")  # what a returned result holds beyond its JSON


def read_table(out):
    with open(out / "table.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def stored_results(runs):
    return {json.loads(p.read_text())["settings"]["lr"]: json.loads(p.read_text())
            for p in runs.glob("*/result.json")}


# --quick with 2 images a split in batches of 2 (not 8 in 4): what the tests check does not depend on the count
SMALL = ("--limit", 2, "--batch-size", 2)


@pytest.fixture(scope="module")
def quick_sweep(tmp_path_factory):
    """The whole default sweep, --quick (2 images a split), run once for the tests that read it: ``(results,
    dirs, {figure file: (its titles, its epoch axes)}, what it printed)``."""
    tmp = tmp_path_factory.mktemp("quick_sweep")
    dirs = {name: tmp / name for name in ("runs", "cache", "out")}
    drawn, save = {}, figures._save

    def record(fig, path, key):
        titles = [fig._suptitle.get_text() if fig._suptitle else ""] + [ax.get_title() for ax in fig.axes]
        epochs = [(ax.get_yscale(), ax.get_ylim()[0], list(ax.get_xticks())) for ax in fig.axes
                  if ax.get_xlabel() == "epoch"]
        drawn[path.name] = " ".join(titles), epochs
        save(fig, path, key)
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setattr(figures, "_save", record)
        results = lr_sweep.main(cli(dirs, "--quick", *SMALL))
    return results, dirs, drawn, printed.getvalue()


def test_lr_sweep_quick_end_to_end(quick_sweep):
    results, dirs, _, _ = quick_sweep
    out = dirs["out"]
    for name in FIGURES:
        assert (out / name).stat().st_size > 0
    rows = read_table(out)
    assert [r["run"] for r in rows] == ["lr 0.0001", "lr 0.001", "lr 0.01", "lr 0.1", GRAY_COPY, TRUTH,
                                        "lr 0.001 on Monet", f"{GRAY_COPY} on Monet",
                                        "lr 0.001 on Van Gogh", f"{GRAY_COPY} on Van Gogh"]
    rows, (baseline, truth), by_painter = rows[:4], rows[4:6], rows[6:]
    # per painter: lr 0.001's and the gray copy's numbers over each painter's test paintings, which add up
    painters = {"Monet": by_painter[:2], "Van Gogh": by_painter[2:]}
    assert sum(int(model["n_test"]) for model, _ in painters.values()) == int(truth["n_test"])
    overall = sum(float(model["test_psnr"]) * int(model["n_test"]) for model, _ in painters.values())
    overall /= int(truth["n_test"])
    assert overall == pytest.approx(float(rows[1]["test_psnr"]))  # per-image means, weighted by group size
    for name, (model, gray) in painters.items():
        scores = results[1]["metrics"]["groups"][name]
        assert float(model["test_mse"]) == pytest.approx(scores["mse"]) and gray["n_test"] == model["n_test"]
        assert model["test_loss"] == gray["test_loss"] == "—"  # one measure per column: the groups have no loss
        assert model["beats_baseline"] == ("yes" if scores["mse"] < float(gray["test_mse"]) else "no")
        assert model["beats_baseline_input_l"] == ("yes" if scores["mse_input_l"] < float(gray["test_mse_input_l"])
                                                   else "no")
    # colour metrics: the gray copy has no colour, the truth is exact, each model is compared with the copy
    assert float(baseline["colourfulness"]) == pytest.approx(0, abs=1e-9) and float(truth["colourfulness"]) > 0
    assert float(truth["test_mse"]) == 0 and float(truth["test_ssim"]) == 1 and truth["test_loss"] == "—"
    assert float(truth["auc"]) == float(truth["auc_rebalanced"]) == 1
    for row, result in zip(rows, results):
        assert float(row["test_psnr"]) == pytest.approx(result["metrics"]["psnr"])
        assert float(row["test_mse"]) == pytest.approx(result["metrics"]["mse"])
        assert float(row["test_mse_input_l"]) == pytest.approx(result["metrics"]["mse_input_l"])
        assert row["beats_baseline"] == ("yes" if result["metrics"]["mse"] < float(baseline["test_mse"]) else "no")
    stored = stored_results(dirs["runs"])
    for row, result in zip(rows, results):
        assert row["epochs"] == "1" and row["batch_size"] == "2" and row["n_train"] == "2" and row["n_test"] == "2"
        assert math.isfinite(float(row["test_loss"])) and math.isfinite(float(row["train_loss"]))
        # the table's numbers are the stored run's, not typed in
        assert float(row["test_loss"]) == stored[float(row["lr"])]["test_loss"] == result["test_loss"]
        assert float(row["train_loss"]) == stored[float(row["lr"])]["history"][-1]["train_loss"]
        assert row["data"] == PAINTINGS_LABEL
        name = row["run"].replace(" ", "_")
        assert (out / f"{name}_loss.png").exists() and (out / f"{name}_samples.png").exists()
        written = json.loads((out / "results" / f"{name}.json").read_text())  # nan (a gray copy's hue) != nan
        assert json.dumps(written, sort_keys=True) == json.dumps(
            {key: value for key, value in result.items() if key not in IN_MEMORY}, sort_keys=True)
        assert row["best_epoch"] == "1" and row["unstable"] == "no"  # one epoch: the best, nothing after it
        assert float(row["best_test_loss"]) == stored[float(row["lr"])]["history"][0]["test_loss"]
    assert rows[1]["report_test_loss"] == "0.0028" and rows[2]["report_train_loss"] == "0.0444"
    assert PAINTINGS_LABEL in (out / "table.md").read_text()
    assert "NOT these: lr 0.0001, lr 0.001, lr 0.01, lr 0.1 ran with other epochs" in (out / "table.md").read_text()
    title = (out / "table.md").read_text().splitlines()[0]
    assert title == "# Learning-rate sweep: small colorizer (Adam, lr 0.0001/0.001/0.01/0.1, 1 epoch, batch 2)"


@pytest.mark.slow
def test_optimizers_reuses_the_lr_sweep_adam_run(dirs, capsys):
    lr_sweep.main(cli(dirs, "--quick", *SMALL, "--lrs", "0.001"))
    capsys.readouterr()
    optimizers.main(cli(dirs, "--quick", *SMALL))
    printed = capsys.readouterr().out
    assert "[Adam] reusing" in printed and "[SGD] training" in printed and "[Adadelta] training" in printed
    assert [r["run"] for r in read_table(dirs["out"])] == ["SGD", "Adadelta", "Adam", GRAY_COPY, TRUTH]
    assert len(list(dirs["runs"].glob("*/result.json"))) == 3


def test_experiment_on_a_paintings_folder(dirs, paintings):
    lr_sweep.main(cli(dirs, "--data-root", paintings, "--quick", *SMALL, "--lrs", "0.001"))
    assert read_table(dirs["out"])[0]["data"] == "paintings from paintings"


def test_quick_without_out_keeps_the_committed_figures_apart(dirs, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    lr_sweep.main(["--quick", *map(str, SMALL), "--lrs", "0.001", "--verbose", "0", "--cache-dir", str(dirs["cache"])])
    assert (tmp_path / "runs" / "quick" / "lr_sweep" / "table.md").exists()
    assert not (tmp_path / "figures").exists()


@pytest.mark.parametrize("args, message", [
    (["--epochs", "-1"], "--epochs"),
    (["--batch-size", "0"], "--batch-size"),
    (["--lrs", "-0.1"], "--lrs"),
    (["--device", "tpu"], "--device"),
    (["--limit", "x"], "--limit"),
])
def test_nonsense_options_are_argparse_errors(dirs, capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        lr_sweep.main(cli(dirs, *args))
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_missing_data_root_is_a_clear_error(dirs, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        lr_sweep.main(cli(dirs, "--data-root", tmp_path / "nowhere", "--quick"))
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "nowhere" in err and "does not exist" in err and "Traceback" not in err
    assert not (dirs["out"] / "table.md").exists()


def test_unwritable_out_is_a_clear_error(dirs, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit):
        lr_sweep.main(cli(dirs, "--quick") + ["--out", str(blocker / "sub")])
    assert "--out" in capsys.readouterr().err


@pytest.mark.parametrize("module, run, report", [("deep", "deep", "0.0057"), ("unet", "unet", "0.0035"),
                                                  ("denoise", "denoise", "not reported")])
def test_other_colorization_experiments_quick_end_to_end(dirs, module, run, report):
    import importlib
    importlib.import_module(f"experiments.{module}").main(cli(dirs, "--quick", *SMALL, "--epochs", "2"))
    rows = read_table(dirs["out"])
    assert ", 2 epochs, batch 2)" in (dirs["out"] / "table.md").read_text().splitlines()[0]  # what ran, not 10
    baseline = "noisy input (baseline)" if module == "denoise" else GRAY_COPY
    assert [r["run"] for r in rows] == [run, baseline, TRUTH] and math.isfinite(float(rows[0]["test_loss"]))
    assert (dirs["out"] / f"{run}_samples.png").exists() and (dirs["out"] / f"{run}_loss.png").exists()
    assert report in (dirs["out"] / "table.md").read_text()


@pytest.mark.slow
def test_inception_quick_caches_features_and_says_not_pretrained(dirs, monkeypatch):
    from experiments import inception
    from torchbearer_colorize.models.inception import InceptionEncoder
    calls = []
    forward = InceptionEncoder.forward
    monkeypatch.setattr(InceptionEncoder, "forward", lambda self, x: calls.append(len(x)) or forward(self, x))
    n = SMALL[1]  # images a split: what each pass over a split encodes
    inception.main(cli(dirs, "--quick", *SMALL, "--no-pretrained", "--epochs", "2"))
    rows = read_table(dirs["out"])
    assert "NOT pretrained" in rows[0]["data"] and rows[0]["epochs"] == "2"
    # batch-norm calibration (n), train and test encoded once each (n + n), the sample grid (n): not per epoch
    assert sum(calls) == n + n + n + n
    calls.clear()
    inception.main(cli(dirs, "--quick", *SMALL, "--no-pretrained", "--epochs", "3"))
    # same data and weights: features come from the cache, the batch-norm statistics from the run store
    assert sum(calls) == n  # the sample grid alone
    calls.clear()
    dirs["cache"] = dirs["cache"].parent / "fresh-cache"  # a fresh clone: the run stored, no features cached
    inception.main(cli(dirs, "--quick", *SMALL, "--no-pretrained", "--epochs", "3"))
    assert sum(calls) == 0  # a reused run whose figures hold their keys encodes nothing
    (dirs["out"] / "inception_samples.png").unlink()
    inception.main(cli(dirs, "--quick", *SMALL, "--no-pretrained", "--epochs", "3"))
    assert sum(calls) == n  # the sample grid alone, drawn again


def test_vae_fruits_quick_end_to_end(dirs):
    from experiments import vae_fruits
    results = vae_fruits.main(cli(dirs, "--quick", *SMALL, "--classes", "3"))
    rows = read_table(dirs["out"])
    assert rows[0]["data"] == "Fruits-360 (3 classes), built-in subset of release 2019.05.06.1" and rows[0]["n_train"] == "2"
    last = results[0]["history"][-1]
    assert float(rows[0]["test_kl"]) == last["test_kl"] > 0
    # the table's loss is the reconstruction plus beta x KL, all measured by the Trial
    assert last["test_loss"] == pytest.approx(last["test_reconstruction"] + last["test_kl"], rel=1e-4)
    assert rows[0]["report_test_loss"] == "19005.3105"
    for figure in ("loss", "samples", "latent_histograms", "samples_from_latent", "noisy_codes", "traversal"):
        assert (dirs["out"] / f"beta_VAE_{figure}.png").stat().st_size > 0


def test_vae_download_needs_a_data_root(dirs, capsys):
    from experiments import vae_fruits
    with pytest.raises(SystemExit):
        vae_fruits.main(cli(dirs, "--quick", "--download"))
    assert "--download needs --data-root" in capsys.readouterr().err


@pytest.mark.slow
def test_same_seed_gives_the_same_loss_columns(tmp_path):
    tables = []
    for name in ("a", "b"):
        dirs = {"runs": tmp_path / name / "runs", "cache": tmp_path / "cache", "out": tmp_path / name / "out"}
        lr_sweep.main(cli(dirs, "--quick", *SMALL, "--lrs", "0.001"))
        tables.append([(r["test_loss"], r["train_loss"]) for r in read_table(dirs["out"])])
    assert tables[0] == tables[1]
    result = json.loads(next((tmp_path / "a" / "runs").glob("*/result.json")).read_text())
    assert {"lr", "epochs", "batch_size", "seed", "data", "optimizer", "model"} <= set(result["settings"])


def test_quick_figures_say_they_are_a_smoke_test_and_one_epoch_is_points_from_0(quick_sweep):
    _, dirs, drawn, printed = quick_sweep
    assert sorted(drawn) == sorted([f"lr_{lr}_{kind}.png" for lr in ("0.0001", "0.001", "0.01", "0.1")
                                    for kind in ("loss", "samples")] + ["test_loss.png"])
    for name, (titles, epochs) in drawn.items():
        assert "--quick smoke test (1 epoch, at most 2 images a split): not a result" in titles, name
        assert all(axis == ("linear", 0, [1]) for axis in epochs), name  # not log, not 0.96 to 1.04
    start = printed.splitlines()[0]
    assert start == (f"[lr_sweep] data: {PAINTINGS_LABEL}; tables and "
                     f"figures go to {dirs['out']}/, runs to {dirs['runs']}/")


def test_a_split_smaller_than_the_batch_is_said_and_the_table_gives_the_batch_used(dirs, tmp_path, capsys):
    root = write_paintings(tmp_path / "two", n=2)
    [result] = lr_sweep.main(cli(dirs, "--data-root", root, "--lrs", "0.001", "--epochs", "1"))
    assert (result["n_train"], result["n_test"], result["settings"]["batch_size"]) == (1, 1, 32)  # the identity's
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if "warning" in line]
    assert warnings == ["[lr_sweep] warning: batch 32 is more than the 1 train and 1 test images: each step takes "
                        "the whole split (a batch of 1 in training)"]
    assert "adam lr 0.001, 1 epoch, batch 1 (32 asked), 1 train / 1 test images" in out
    assert read_table(dirs["out"])[0]["batch_size"] == "1 (32 asked)"


def test_sample_images_come_from_every_painter_in_turn():
    from torchbearer_colorize.training.samples import sample_indices
    monet, van_gogh = list(range(0, 78, 2)) + list(range(78, 99)), list(range(1, 78, 2))  # the built-in test split
    picked = sample_indices(99, groups={"Monet": monet, "Van Gogh": van_gogh})
    assert [i in monet for i in picked] == [True, False] * 4 and len(set(picked)) == 8
    assert all(i % 2 == 0 for i in sample_indices(99))  # without the groups, evenly spaced: here all Monet


def test_the_report_columns_say_when_they_are_the_reports_settings():
    from torchbearer_colorize.report.outputs import report_note

    def result(epochs, batch=32, n_train=400):
        return {"run": "lr 0.001", "n_train": n_train, "settings": {"epochs": epochs, "batch_size": batch}}
    assert "for these settings" in report_note("lr_sweep", [result(20)], 51)  # 260 steps against the report's 255
    assert "NOT these: lr 0.001" in report_note("lr_sweep", [result(32)], 51)
    assert "NOT these" in report_note("lr_sweep", [result(20, batch=16)], 51)
    assert "for these settings" in report_note("lr_sweep", [result(5, n_train=1619)], 51)  # the report's own size


def test_a_task_without_a_baseline_label_gets_no_metric_columns_nor_reference_rows(tmp_path):
    """``TaskData.baseline_label`` names the baseline row; None (the default) means no colour metrics at all."""
    import argparse

    import numpy as np

    from torchbearer_colorize.data.paintings import ColorizationDataset
    from torchbearer_colorize.data.tasks import TaskData
    from torchbearer_colorize.report.outputs import write_outputs
    from torchbearer_colorize.training.runs import RunSpec, TrainOptions, train
    images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    data = TaskData(ColorizationDataset(images[:2]), ColorizationDataset(images[2:]), label="t", fingerprint="t")
    assert not data.has_baseline and TaskData(None, None, "t", "t", baseline_label=GRAY_COPY).has_baseline
    result = train(RunSpec("r", epochs=1, batch_size=2), data, lr_sweep.trial,
                   TrainOptions(runs_dir=tmp_path / "runs", device="cpu", verbose=0, log=lambda *_: None))
    args = argparse.Namespace(worker=False, out=tmp_path / "out", runs_dir=tmp_path / "runs", seed=0, quick=False)
    [written] = write_outputs("lr_sweep", "t", [result], data, args)
    [row] = read_table(tmp_path / "out")
    assert "metrics" not in written and "test_psnr" not in row and row["run"] == "r"


def test_bf16_on_the_cpu_is_its_own_run_and_says_so(dirs, monkeypatch, capsys):
    """--bf16 --quick on the CPU (its native-bf16 test answered yes: an emulated one computes the same, only slower)
    trains a run whose settings carry the autocast, whose table, figures and REPORT-style titles say bf16; the fp32
    run of the same settings is another run, trained, not the bf16 one reused (nor the reverse)."""
    from torchbearer_colorize.training import prepare
    monkeypatch.setattr(prepare, "native_bf16", lambda: True)
    drawn, save = [], figures._save

    def record(fig, path, key):
        titles = [fig._suptitle.get_text() if fig._suptitle else ""] + [ax.get_title() for ax in fig.axes]
        drawn.append(" ".join(titles))
        save(fig, path, key)
    monkeypatch.setattr(figures, "_save", record)
    [result] = lr_sweep.main(cli(dirs, "--quick", *SMALL, "--lrs", "0.001", "--bf16", "--device", "cpu"))
    assert result["settings"]["autocast"] == "bf16" and math.isfinite(result["test_loss"])
    assert (dirs["out"] / "table.md").read_text().splitlines()[0].endswith("(Adam, lr 0.001, 1 epoch, batch 2, bf16)")
    assert drawn and all("batch 2, bf16" in titles for titles in drawn), drawn
    assert "bf16 autocast" in capsys.readouterr().out
    [fp32] = lr_sweep.main(cli(dirs, "--quick", *SMALL, "--lrs", "0.001", "--device", "cpu"))
    assert "[lr 0.001] training" in capsys.readouterr().out and "autocast" not in fp32["settings"]
    assert len(list(dirs["runs"].glob("*/result.json"))) == 2
    again = lr_sweep.main(cli(dirs, "--quick", *SMALL, "--lrs", "0.001", "--bf16", "--device", "cpu"))
    assert "reusing" in capsys.readouterr().out and again[0]["test_loss"] == result["test_loss"]
