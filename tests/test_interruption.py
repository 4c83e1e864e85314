"""Kill a sweep with SIGKILL mid-run, run it again: nothing finished is retrained, the killed run
resumes from its last epoch checkpoint, and the table equals an uninterrupted run's."""
import csv
import json
import os
import signal
import subprocess
import sys
import time

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


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_sigkill_mid_sweep_then_rerun_equals_an_unbroken_sweep(tmp_path):
    cache = tmp_path / "cache"
    unbroken, command = sweep(tmp_path, "unbroken", cache)
    subprocess.run(command, check=True, capture_output=True, timeout=600)

    killed, command = sweep(tmp_path, "killed", cache)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        # kill once the second run has a checkpoint (an epoch done) but no result yet
        second = [d for d in killed.glob("colorize-small-adam-lr0.01-*") if (d / "checkpoint.pt").exists()]
        if second and not (second[0] / "result.json").exists():
            process.send_signal(signal.SIGKILL)
            break
        if process.poll() is not None:
            pytest.fail("the sweep finished before it could be killed")
        time.sleep(0.02)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    for path in killed.rglob("*"):  # no target file is half-written (a stray *.tmp may be)
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".pt":
            torch.load(path, weights_only=False)

    again = subprocess.run(command, check=True, capture_output=True, text=True, timeout=600).stdout
    assert "[lr 0.001] reusing" in again
    assert "[lr 0.01] resuming after epoch" in again
    assert losses(killed) == losses(unbroken)
