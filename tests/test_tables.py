"""report.tables: rows, stability over epochs, titles from settings, and several seeds' tables in one."""
import math

import pytest

from torchbearer_colorize.report import tables


def history(*losses):
    return [{"epoch": i + 1, "test_loss": loss, "train_loss": loss} for i, loss in enumerate(losses)]


def test_stability_finds_the_best_epoch_and_a_later_blow_up():
    assert tables.stability(history(0.05, 0.02, 0.03, 0.025)) == (0.02, 2, False)
    assert tables.stability(history(0.05, 0.01, 0.031, 0.02)) == (0.01, 2, True)  # 3.1x the best
    assert tables.stability(history(0.05, 0.01, 0.03)) == (0.01, 2, False)  # exactly 3x is not above it
    assert tables.stability(history(0.05, 0.01, math.nan)) == (0.01, 2, True)  # diverged after its best
    assert tables.stability(history(0.3, 0.2, 0.1)) == (0.1, 3, False)  # best at the end: nothing after it
    assert tables.stability([]) == (None, None, False)


def test_settings_text_states_what_ran():
    runs = [{"optimizer": "adam", "lr": lr, "epochs": 32, "batch_size": 32} for lr in (1e-4, 1e-3)]
    assert tables.settings_text(runs) == "Adam, lr 0.0001/0.001, 32 epochs, batch 32"
    one = [{"optimizer": "sgd", "lr": 1e-3, "epochs": 1, "batch_size": 8, "beta": 4.0}]
    assert tables.settings_text(one) == "SGD, lr 0.001, 1 epoch, batch 8, beta 4"
    assert tables.settings_text([{**one[0], "autocast": "bf16"}]) == "SGD, lr 0.001, 1 epoch, batch 8, beta 4, bf16"
    assert tables.settings_text([runs[0], {**runs[1], "autocast": "bf16"}]).endswith("batch 32, fp32/bf16")


def table_csv(rows):
    return tables.Table("t", rows, columns=("run", "lr", "test_loss", "status", "unstable", "beats_baseline"))


REFERENCE = {"lr": "—", "status": "—", "unstable": "—", "beats_baseline": "—"}  # a row that is no model


def test_combine_seeds_gives_mean_std_and_counts():
    seed0 = [{"run": "a", "lr": 0.1, "test_loss": 0.5, "status": "finished", "unstable": False,
              "beats_baseline": True},
             dict(REFERENCE, run="gray", test_loss=0.7), dict(REFERENCE, run="truth", test_loss=math.inf)]
    seed1 = [dict(seed0[0], test_loss=0.7, status="diverged", unstable=True, beats_baseline=False), *seed0[1:]]
    columns, rows = tables.combine_seeds({0: table_csv(seed0), 1: table_csv(seed1)})
    assert columns == ["run", "seeds", "lr", "test_loss", "test_loss_std", "status", "unstable", "beats_baseline"]
    a, gray, truth = rows
    assert truth["test_loss"] == math.inf and truth["test_loss_std"] == 0  # an infinite PSNR in every seed
    assert a["seeds"] == "0,1" and a["lr"] == "0.1" and math.isclose(a["test_loss"], 0.6)
    assert math.isclose(a["test_loss_std"], math.sqrt(0.02))
    assert (a["status"], a["unstable"], a["beats_baseline"]) == ("finished/diverged", "1/2 seeds", "1/2 seeds")
    assert gray["test_loss_std"] == 0 and gray["unstable"] == "—"


def test_combine_seeds_refuses_tables_of_different_runs():
    one = table_csv([{"run": "a", "lr": 1, "test_loss": 1, "status": "x", "unstable": False, "beats_baseline": True}])
    other = tables.Table("t", [dict(one.rows[0], run="b")], columns=one.columns)
    with pytest.raises(ValueError, match="different runs"):
        tables.combine_seeds({0: one, 1: other})


def test_the_reports_digits_are_kept_as_printed():
    from torchbearer_colorize.report.reported import reported
    vae = reported("vae_fruits", "beta-VAE")
    row = tables.row({"settings": {"model": "vae", "optimizer": "adam", "lr": 5e-4, "epochs": 10, "batch_size": 32},
                      "history": history(20000.0), "run": "beta-VAE", "data": "d", "n_train": 1, "n_test": 1,
                      "test_loss": 22000.0, "train_loss": 17000.0, "status": "finished"}, vae)
    assert tables.to_markdown([row]).count("19005.3105 | 17458.7891") == 1
    assert vae.test_loss == 19005.3105
