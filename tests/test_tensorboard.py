"""--tensorboard: torchbearer's TensorBoard callback changes no number, resumes either way, and its event files
read back."""
import math
import sys

import numpy as np
import pytest

from callbacks import StopOnNonFiniteLoss
from callbacks.checkpoint import load_checkpoint
from experiments import lr_sweep, vae_fruits
from torchbearer_colorize.data.paintings import ColorizationDataset
from torchbearer_colorize.data.tasks import TaskData
from torchbearer_colorize.training.runs import RunSpec, TrainOptions, make_trial, run_dir
from torchbearer_colorize.training.tensorboard import RunTensorBoard

from .conftest import cli


def events(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    return EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0}).Reload()


@pytest.mark.slow
@pytest.mark.parametrize("module, extra", [(lr_sweep, ("--lrs", "0.001,0.1")), (vae_fruits, ("--classes", "3"))])
def test_tensorboard_changes_no_number_and_its_events_read_back(tmp_path, module, extra):
    epochs, tables, n = 2, [], 2  # n: images a split, and the batch size (one batch an epoch)
    for name, flags in (("plain", ()), ("logged", ("--tensorboard", tmp_path / "tb"))):
        dirs = {"runs": tmp_path / name / "runs", "out": tmp_path / name / "out", "cache": tmp_path / "cache"}
        results = module.main(cli(dirs, "--quick", "--limit", n, "--batch-size", n, "--epochs", epochs, *extra,
                                  *flags))
        tables.append((dirs["out"] / "table.csv").read_bytes())
    assert tables[0] == tables[1]
    for result in results:
        folder = tmp_path / "tb" / run_dir(dirs["runs"], result["settings"]).name
        run = events(folder)
        metrics = [key[len("train_"):] for key in result["history"][0] if key.startswith("train_")]
        assert set(run.Tags()["scalars"]) == {f"epoch/{prefix}{metric}" for metric in metrics
                                              for prefix in ("", "val_", "running_")}
        for metric in metrics:  # torchbearer's epoch metrics, the numbers of the run's history
            for tag, key in ((f"epoch/{metric}", f"train_{metric}"), (f"epoch/val_{metric}", f"test_{metric}")):
                logged = [(e.step, e.value) for e in run.Scalars(tag)]
                expected = [(h["epoch"] - 1, h[key]) for h in result["history"]]
                assert [s for s, _ in logged] == [s for s, _ in expected]
                assert all(math.isclose(a, b, rel_tol=1e-6) for (_, a), (_, b) in zip(logged, expected))
        images = run.Images("samples")  # one grid per epoch: a test image a column (at most 8), 3 rows (2 for the VAE)
        assert [image.step for image in images] == list(range(epochs))
        size, rows = (100, 2) if module is vae_fruits else (256, 3)
        assert (images[0].width, images[0].height) == (n * (size + 2) + 2, rows * (size + 2) + 2)  # 2-pixel padding
        for epoch in range(epochs):  # batch metrics per epoch: torchbearer logs its running means every 10 batches
            batches = events(folder / f"epoch-{epoch}")
            assert set(batches.Tags()["scalars"]) == {f"batch/running_{metric}" for metric in metrics}
            assert [e.step for e in batches.Scalars("batch/running_loss")] == [0]  # one batch


def tiny_data():
    images = np.random.default_rng(0).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    return TaskData(ColorizationDataset(images[:4]), ColorizationDataset(images[4:]), label="t", fingerprint="t")


def test_checkpoints_resume_with_and_without_tensorboard(tmp_path):
    """TensorBoard goes last: a checkpoint written without it resumes in a Trial that has it, and back (also
    with another callback before it, as torchrun's ``AcrossRanks``), with the numbers of an uninterrupted run."""
    data, spec, tb = tiny_data(), RunSpec("r", epochs=4, batch_size=2), tmp_path / "tb"
    stages = {"plain": ({}, []), "logged": ({"tensorboard": tb}, []),
              "across": ({"tensorboard": tb}, [StopOnNonFiniteLoss()]), "again": ({}, [])}
    for name in ("whole", *stages):
        (tmp_path / name).mkdir()
    whole = make_trial(lr_sweep.trial, spec, data, tmp_path / "whole")[0].run(4, verbose=0)
    previous = None
    for epochs, (name, (options, callbacks)) in enumerate(stages.items(), 1):
        trial, _ = make_trial(lr_sweep.trial, spec, data, tmp_path / name, TrainOptions(device="cpu", **options),
                              callbacks)
        if previous:
            load_checkpoint(trial, tmp_path / previous / "checkpoint.pt", allowed=(RunTensorBoard,))
        history, previous = trial.run(epochs, verbose=0), name
    assert [h["loss"] for h in history] == [h["loss"] for h in whole]
    assert [e.step for e in events(tb / "logged").Scalars("epoch/loss")] == [1]
    assert [e.step for e in events(tb / "across").Scalars("epoch/loss")] == [2]


def test_tensorboard_without_tensorboardx_is_one_line(dirs, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import tensorboardX now fails
    with pytest.raises(SystemExit) as stop:
        lr_sweep.main(cli(dirs, "--quick", "--tensorboard", dirs["out"] / "tb"))
    assert stop.value.code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "--tensorboard needs tensorboardX" in line and "pip install" in line
    assert not (dirs["out"] / "tb").exists()


def test_the_report_passes_tensorboard_to_each_experiment(tmp_path):
    from experiments import report
    args = report.parser().parse_args(["--tensorboard", str(tmp_path / "tb")])
    argv = report.experiment_argv("lr_sweep", "paintings", args, 0, tmp_path, random_encoder=False)
    assert argv[argv.index("--tensorboard") + 1] == str(tmp_path / "tb")
