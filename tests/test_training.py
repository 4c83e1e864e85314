import gc
import json
from dataclasses import replace

import numpy as np
import pytest
import torch
import torchbearer
from torch.optim import SGD
from torchbearer import Trial
from torchbearer.callbacks import Callback

from callbacks import AtomicCheckpoint, EpochLog, EpochSeed, StopOnNonFiniteLoss
from experiments.lr_sweep import trial as small_trial
from tests.conftest import with_callbacks
from torchbearer_colorize.data.paintings import ColorizationDataset
from torchbearer_colorize.data.tasks import TaskData
from torchbearer_colorize.models import SmallColorizer
from torchbearer_colorize.training.cli import user_errors_exit
from torchbearer_colorize.training.runs import RunSpec, TrainOptions, make_trial, run_dir, run_settings, train
from torchbearer_colorize.training.store import load_model


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 32, 32, 3), dtype=np.uint8)
    return TaskData(ColorizationDataset(images[:8]), ColorizationDataset(images[8:]),
                    label="random test images", fingerprint="tiny-v1")


def test_make_trial_builds_the_experiments_trial_seeded_with_the_stores_callbacks_and_loaders(tiny, tmp_path):
    spec = RunSpec("tiny", epochs=1, batch_size=4)
    trial, model = make_trial(small_trial, spec, tiny, tmp_path, TrainOptions(device="cpu", seed=3))
    again, _ = make_trial(small_trial, spec, tiny, tmp_path / "again", TrainOptions(device="cpu", seed=3))
    other, _ = make_trial(small_trial, spec, tiny, tmp_path / "other", TrainOptions(device="cpu", seed=4))
    weights = [next(t.state[torchbearer.MODEL].parameters()) for t in (trial, again, other)]
    assert torch.equal(weights[0], weights[1]) and not torch.equal(weights[0], weights[2])  # seeded by the run's seed
    assert trial.state[torchbearer.MODEL] is model and isinstance(model, SmallColorizer)  # one process: not wrapped
    assert next(model.parameters()).is_contiguous(memory_format=torch.channels_last)
    kinds = [type(c) for c in trial.state[torchbearer.CALLBACK_LIST].callback_list]
    assert kinds == [EpochSeed, StopOnNonFiniteLoss, EpochLog, AtomicCheckpoint]
    train_loader = trial.state[torchbearer.TRAIN_GENERATOR]
    assert train_loader.dataset is tiny.train and train_loader.batch_size == 4
    assert trial.state[torchbearer.VALIDATION_GENERATOR].dataset is tiny.test
    trial.run(1, verbose=0)
    assert (tmp_path / "log.csv").is_file() and (tmp_path / "checkpoint.pt").is_file()


@pytest.mark.parametrize("recorded", [dict(model="deep"), dict(optimizer="sgd")])
def test_make_trial_refuses_a_trial_that_is_not_the_run_it_is_recorded_as(tiny, tmp_path, recorded):
    with pytest.raises(ValueError, match="its run is recorded as"):
        make_trial(small_trial, replace(RunSpec("tiny", batch_size=4), **recorded), tiny, tmp_path)
    fixed_lr = lambda run: Trial(model := SmallColorizer(), SGD(model.parameters(), lr=0.5))  # noqa: E731
    with pytest.raises(ValueError, match="at lr 0.5; its run is recorded as 'small' with 'sgd' at lr 0.001"):
        make_trial(fixed_lr, RunSpec("tiny", optimizer="sgd"), tiny, tmp_path)


def sgd_trial(run):
    model = SmallColorizer()
    return Trial(model, SGD(model.parameters(), lr=run.spec.lr), torch.nn.MSELoss(), metrics=["loss"],
                 callbacks=run.callbacks()).with_generators(*run.loaders())


def test_a_finished_run_is_reused_and_force_retrains(tiny, tmp_path):
    spec = RunSpec("tiny", epochs=2, batch_size=4)
    logs = []
    first = train(spec, tiny, small_trial, TrainOptions(runs_dir=tmp_path, verbose=0, log=logs.append))
    assert first["status"] == "finished" and len(first["history"]) == 2
    assert all(np.isfinite([e["train_loss"], e["test_loss"]]).all() for e in first["history"])
    directory = run_dir(tmp_path, run_settings(spec, tiny, 0))
    stored = json.loads((directory / "result.json").read_text())
    assert stored["test_loss"] == first["test_loss"] == first["history"][-1]["test_loss"]
    assert stored["settings"]["lr"] == 1e-3 and stored["versions"]["torchbearer"] == torchbearer.__version__

    logs.clear()
    again = train(spec, tiny, small_trial, TrainOptions(runs_dir=tmp_path, verbose=0, log=logs.append))
    assert again == stored and "reusing" in logs[0]

    logs.clear()
    forced = train(spec, tiny, small_trial, TrainOptions(runs_dir=tmp_path, verbose=0, force=True, log=logs.append))
    assert not any("reusing" in line for line in logs)
    assert forced["finished_at"] >= stored["finished_at"]
    # same seed, same settings: the same numbers, bit for bit, on the CPU
    assert [e["test_loss"] for e in forced["history"]] == [e["test_loss"] for e in stored["history"]]


def test_other_settings_are_another_run(tiny, tmp_path):
    a = run_dir(tmp_path, run_settings(RunSpec("a"), tiny, 0))
    assert a != run_dir(tmp_path, run_settings(RunSpec("a"), tiny, 1))
    assert a != run_dir(tmp_path, run_settings(RunSpec("a", lr=1e-2), tiny, 0))
    assert a == run_dir(tmp_path, run_settings(RunSpec("renamed"), tiny, 0))  # the name is not a setting


def test_an_interrupted_run_resumes_from_its_checkpoint_with_the_same_result(tiny, tmp_path):
    spec = RunSpec("tiny", epochs=3, batch_size=4)
    unbroken = train(spec, tiny, small_trial, TrainOptions(runs_dir=tmp_path / "a", verbose=0, log=lambda *_: None))
    # Simulate a kill after epoch 1: train 1 epoch, then keep only its checkpoint.
    one = RunSpec("tiny", epochs=1, batch_size=4)
    train(one, tiny, small_trial, TrainOptions(runs_dir=tmp_path / "b", verbose=0, log=lambda *_: None))
    src = run_dir(tmp_path / "b", run_settings(one, tiny, 0))
    dst = run_dir(tmp_path / "b", run_settings(spec, tiny, 0))
    dst.mkdir(parents=True)
    (src / "checkpoint.pt").rename(dst / "checkpoint.pt")
    logs = []
    resumed = train(spec, tiny, small_trial, TrainOptions(runs_dir=tmp_path / "b", verbose=0, log=logs.append))
    assert any("resuming after epoch 1" in line for line in logs)
    assert resumed["resumed_from_epoch"] == 1
    assert [e["test_loss"] for e in resumed["history"]] == [e["test_loss"] for e in unbroken["history"]]
    assert [e["train_loss"] for e in resumed["history"]] == [e["train_loss"] for e in unbroken["history"]]


def test_a_diverging_run_is_stopped_and_marked(tiny, tmp_path):
    result = train(RunSpec("absurd", lr=1e12, epochs=3, batch_size=4, optimizer="sgd"), tiny, sgd_trial,
                   TrainOptions(runs_dir=tmp_path, verbose=0, log=lambda *_: None))
    assert result["status"] == "diverged"


def test_saved_model_loads_with_weights_only(tiny, tmp_path):
    spec = RunSpec("tiny", epochs=1, batch_size=4)
    train(spec, tiny, small_trial, TrainOptions(runs_dir=tmp_path, verbose=0, log=lambda *_: None))
    model = load_model(run_dir(tmp_path, run_settings(spec, tiny, 0)) / "model.pt")
    assert isinstance(model, SmallColorizer) and not model.training


def test_batches_are_copied_to_the_device_by_the_loader(tiny):
    from torch.utils.data import DataLoader

    from torchbearer_colorize.training.prepare import ToDevice

    loader = DataLoader(tiny.train, batch_size=4)
    moved = ToDevice(loader, "cpu")  # on CUDA the same copy, without blocking, from pinned memory
    assert len(moved) == len(loader) and moved.dataset is tiny.train and moved.sampler is loader.sampler
    for (x, y), (x2, y2) in zip(loader, moved):
        assert torch.equal(x, x2) and torch.equal(y, y2) and x2.device.type == "cpu"


class CtrlC(Callback):
    """Ctrl-C at the first batch of epoch ``epoch`` (counted from 1)."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_sample(self, state):
        if state[torchbearer.EPOCH] + 1 == self.epoch:
            raise KeyboardInterrupt


def test_ctrl_c_says_where_the_rerun_resumes_and_the_resumed_log_is_the_unbroken_ones(tiny, tmp_path):
    spec = RunSpec("tiny", epochs=3, batch_size=4)
    quiet = {"verbose": 0, "log": lambda *_: None}
    train(spec, tiny, small_trial, TrainOptions(runs_dir=tmp_path / "a", **quiet))

    def ctrl_c_in(epoch):  # the checkpoint names the callback's class, so the resumed Trial lists it too
        return with_callbacks(small_trial, CtrlC(epoch))

    with pytest.raises(KeyboardInterrupt) as stop:
        train(spec, tiny, ctrl_c_in(2), TrainOptions(runs_dir=tmp_path / "b", **quiet))
    directory = run_dir(tmp_path / "b", run_settings(spec, tiny, 0))
    assert str(stop.value) == (f"interrupted in [tiny] epoch 2 of 3: rerun the same command to resume from epoch 2 "
                               f"(finished runs are reused; this run is in {directory})")
    assert train(spec, tiny, ctrl_c_in(None), TrainOptions(runs_dir=tmp_path / "b", **quiet))["resumed_from_epoch"] == 1
    log = (directory / "log.csv").read_text()
    assert log.count("epoch,") == 1  # one header row, not one per resume

    assert log.splitlines()[0] == "epoch,loss,val_loss"  # no running_loss: a resumed run starts its window empty
    assert log == (run_dir(tmp_path / "a", run_settings(spec, tiny, 0)) / "log.csv").read_text()


def test_a_resumed_runs_progress_bar_counts_each_epoch_once(tiny, tmp_path, capsys):
    spec = RunSpec("tiny", epochs=4, batch_size=4)
    options = TrainOptions(runs_dir=tmp_path, verbose=1, log=lambda *_: None)
    with pytest.raises(KeyboardInterrupt):
        train(spec, tiny, with_callbacks(small_trial, CtrlC(2)), options)
    capsys.readouterr()
    train(spec, tiny, with_callbacks(small_trial, CtrlC(None)), options)
    bar = [line for line in capsys.readouterr().err.replace("\r", "\n").splitlines() if line.strip()]
    assert "4/4" in bar[-1] and not any(line.lstrip().startswith("5it") for line in bar), bar[-3:]  # not "5it [.."


@pytest.mark.parametrize("verbose", [1, 2])
def test_ctrl_c_ends_the_progress_bars_first_so_its_line_is_the_last(tiny, tmp_path, capsys, verbose):
    with pytest.raises(KeyboardInterrupt):
        train(RunSpec("tiny", epochs=3, batch_size=4), tiny, with_callbacks(small_trial, CtrlC(2)),
              TrainOptions(runs_dir=tmp_path, verbose=verbose, log=lambda *_: None))
    assert capsys.readouterr().err.endswith("\n")  # the bar's line is ended,
    gc.collect()
    assert capsys.readouterr().err == ""  # and not drawn again later, after the message


@pytest.mark.parametrize("message, line", [
    ("interrupted in [x] epoch 2 of 3: rerun ...", "interrupted in [x] epoch 2 of 3: rerun ..."),  # from train
    ("", "interrupted: rerun the same command to go on"),  # anywhere else (data, metrics, tbc-colorize)
])
def test_ctrl_c_in_any_command_is_one_line_and_exit_130(capsys, message, line):
    @user_errors_exit
    def command():
        raise KeyboardInterrupt(message)

    with pytest.raises(SystemExit) as exit_:
        command()
    assert exit_.value.code == 130 and capsys.readouterr().err == line + "\n"


def test_a_reused_run_says_it_logs_nothing_to_tensorboard(tiny, tmp_path):
    spec = RunSpec("tiny", epochs=1, batch_size=4)
    train(spec, tiny, small_trial, TrainOptions(runs_dir=tmp_path, verbose=0, log=lambda *_: None))
    logs = []
    train(spec, tiny, small_trial,
          TrainOptions(runs_dir=tmp_path, verbose=0, log=logs.append, tensorboard=tmp_path / "tb"))
    assert logs == [f"[tiny] reusing the finished run in {run_dir(tmp_path, run_settings(spec, tiny, 0))} (--force "
                    f"retrains); nothing logged to --tensorboard {tmp_path / 'tb'}: it logs runs as they train"]
    assert not (tmp_path / "tb").exists()
