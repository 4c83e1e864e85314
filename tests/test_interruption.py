"""Kill a sweep with SIGKILL mid-run, run it again: nothing finished is retrained, the killed run
resumes from its last epoch checkpoint, and the table equals an uninterrupted run's."""
import csv
import json
import os
import signal
import subprocess
import sys

import pytest
import torch

ARGS = ["-m", "experiments.lr_sweep", "--lrs", "0.001,0.01", "--epochs", "3", "--limit", "32",
        "--batch-size", "4", "--verbose", "0"]


def sweep(tmp_path, name, cache):
    runs = tmp_path / name
    command = [sys.executable, *ARGS, "--runs-dir", str(runs), "--out", str(runs / "out"), "--cache-dir", str(cache)]
    return runs, command


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
lr_sweep.main(sys.argv[1:])
"""


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_sigkill_mid_sweep_then_rerun_equals_an_unbroken_sweep(tmp_path):
    cache = tmp_path / "cache"
    unbroken, command = sweep(tmp_path, "unbroken", cache)
    subprocess.run(command, check=True, capture_output=True, timeout=600)

    killed, command = sweep(tmp_path, "killed", cache)
    process = subprocess.run([sys.executable, "-c", KILLED_SWEEP, *command[3:]], capture_output=True, timeout=600)
    assert process.returncode == -signal.SIGKILL
    [second] = killed.glob("colorize-small-adam-lr0.01-*")
    assert (second / "checkpoint.pt").exists() and not (second / "result.json").exists()
    for path in killed.rglob("*"):  # no target file is half-written (a stray *.tmp may be)
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".pt":
            torch.load(path, weights_only=False)

    again = subprocess.run(command, check=True, capture_output=True, text=True, timeout=600).stdout
    assert "[lr 0.001] reusing" in again
    assert "[lr 0.01] resuming after epoch 1" in again
    assert losses(killed) == losses(unbroken)
