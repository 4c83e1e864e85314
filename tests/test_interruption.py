"""Kill a sweep with SIGKILL mid-run, run it again: nothing finished is retrained, the killed run
resumes from its last epoch checkpoint, and the table equals an uninterrupted run's. Ctrl-C says so in
one line and exits 130, from the experiment and from dev.py."""
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from callbacks.checkpoint import AtomicCheckpoint
from experiments import lr_sweep
from torchbearer_colorize.training.store import load_saved

ROOT = Path(__file__).resolve().parent.parent


def sweep(tmp_path, name, cache, lrs="0.001,0.01", epochs=2):
    """The sweep's folder and its options (8 images a split, 2 batches an epoch: killed, interrupted and resumed
    runs need no more); ``[sys.executable, "-m", "experiments.lr_sweep", *options]`` runs it as a user does."""
    runs = tmp_path / name
    return runs, ["--lrs", lrs, "--epochs", str(epochs), "--limit", "8", "--batch-size", "4", "--verbose", "0",
                  "--runs-dir", str(runs), "--out", str(runs / "out"), "--cache-dir", str(cache)]


def command(options):
    return [sys.executable, "-m", "experiments.lr_sweep", *options]


def losses(runs):
    with open(runs / "out" / "table.csv", newline="") as fh:
        return [(row["run"], row["test_loss"], row["train_loss"], row["status"]) for row in csv.DictReader(fh)]


# The sweep, with the process killed (SIGKILL) right after the first epoch checkpoint of the lr 0.01 run
# is written: lr 0.001 is finished, lr 0.01 is half-way. The kill comes from inside, so there is no race.
KILLED_SWEEP = """
import os, signal, sys
from callbacks.checkpoint import AtomicCheckpoint
save = AtomicCheckpoint.on_checkpoint
def save_then_die(self, state):
    save(self, state)
    if "-lr0.01-" in str(self.path):
        os.kill(os.getpid(), signal.SIGKILL)
AtomicCheckpoint.on_checkpoint = save_then_die
from experiments import lr_sweep
from torchbearer_colorize.training.store import load_saved
lr_sweep.main(sys.argv[1:])
"""


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_sigkill_mid_sweep_then_rerun_equals_an_unbroken_sweep(tmp_path, capsys):
    cache = tmp_path / "cache"
    unbroken, options = sweep(tmp_path, "unbroken", cache)
    lr_sweep.main(options)  # in this process: only the killed one needs a process of its own

    killed, options = sweep(tmp_path, "killed", cache)
    process = subprocess.run([sys.executable, "-c", KILLED_SWEEP, *options], cwd=ROOT, capture_output=True,
                             timeout=600)
    assert process.returncode == -signal.SIGKILL, process.stderr
    [second] = killed.glob("colorize-small-adam-lr0.01-*")
    assert (second / "checkpoint.pt").exists() and not (second / "result.json").exists()
    for path in killed.rglob("*"):  # no target file is half-written (a stray *.tmp may be)
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.name == "model.pt":
            load_saved(path)
        elif path.suffix == ".pt":
            torch.load(path, weights_only=False)

    capsys.readouterr()
    lr_sweep.main(options)  # the rerun, here too: what it resumes from is on disk, as the killed process left it
    again = capsys.readouterr().out
    assert "[lr 0.001] reusing" in again
    assert "[lr 0.01] resuming after epoch 1" in again
    assert losses(killed) == losses(unbroken)


# dev.py as a user runs it, its set-up (the .venv) skipped: this interpreter is the environment
DEV = "import sys, dev; dev.setup = lambda: None; dev.PYTHON = sys.executable; dev.main(sys.argv[1:])"


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="process groups")
@pytest.mark.parametrize("via_dev", [False, True], ids=["experiment", "dev.py"])
def test_ctrl_c_is_one_line_exit_130_and_the_rerun_resumes(tmp_path, capsys, monkeypatch, via_dev):
    # 1000 epochs: the Ctrl-C, sent once the first epoch's checkpoint is there, comes while the run still trains
    # however long this process waits for a core (a few epochs of 8 images could all end before it)
    runs, options = sweep(tmp_path, "runs", tmp_path / "cache", lrs="0.001", epochs=1000)
    started = [sys.executable, "-c", DEV, "run", "lr_sweep", *options] if via_dev else command(options)
    # a terminal's Ctrl-C goes to the whole foreground process group: dev.py and the job it started. SIGINT as a
    # terminal leaves it (not ignored, as it is where these tests run in a background job: `pytest ... &`)
    process = subprocess.Popen(started, cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 300
        while not list(runs.glob("*/checkpoint.pt")) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, err
    [line] = err.splitlines()  # no traceback
    [directory] = runs.glob("colorize-small-adam-lr0.001-*")
    found = re.fullmatch(rf"interrupted in \[lr 0\.001\] epoch (\d+) of 1000: rerun the same command to resume "
                         rf"from epoch \1 \(finished runs are reused; this run is in {re.escape(str(directory))}\)",
                         line)
    assert found, line
    epoch = int(found.group(1))
    # the rerun, in this process, stopped as by a second Ctrl-C once it has trained one epoch (not 1000 - epoch)
    save = AtomicCheckpoint.on_checkpoint

    def save_then_stop(self, state):
        save(self, state)
        raise KeyboardInterrupt
    monkeypatch.setattr(AtomicCheckpoint, "on_checkpoint", save_then_stop)
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        lr_sweep.main(options)
    again = capsys.readouterr()
    assert stop.value.code == 130
    assert f"[lr 0.001] resuming after epoch {epoch - 1}" in again.out
    assert again.err.startswith(f"interrupted in [lr 0.001] epoch {epoch + 1} of 1000")  # it trained epoch `epoch`
    assert (directory / "log.csv").read_text().count("epoch,") == 1
