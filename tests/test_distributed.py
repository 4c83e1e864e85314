"""More than one process: torchrun with DDP (gloo on the CPU) gives the one-process numbers and one
writer; a killed rank fails the job; ``--devices`` spreads a sweep's runs, each trained once."""
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from experiments import lr_sweep
from tests.conftest import cli
from torchbearer_colorize import distributed
from torchbearer_colorize.distributed import ShardedBatches
from torchbearer_colorize.report import tables
from torchbearer_colorize.training.cli import parse_options
from torchbearer_colorize.training.devices import run_locked
from torchbearer_colorize.training.runs import EpochShuffleSampler, run_lock

ROOT = Path(__file__).resolve().parents[1]
# 10 images in global batches of 3: the last batch holds 1 image, so one rank gets only a stand-in
SWEEP = ["--quick", "--lrs", "0.001", "--limit", "10", "--batch-size", "3", "--epochs", "2", "--device", "cpu"]
LOSSES = ("test_loss", "train_loss")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(n, argv, timeout_s=60, experiment="lr_sweep"):
    """The command that runs ``argv`` of ``experiment`` on ``n`` gloo processes, and its environment."""
    env = {**os.environ, distributed.TIMEOUT_ENV: str(timeout_s), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={n}", "--master_addr=127.0.0.1",
               f"--master_port={free_port()}", "-m", f"experiments.{experiment}", *argv]
    return command, env


def printed(out, columns=LOSSES):
    """The loss cells of ``out``'s table as the table prints them."""
    with open(out / "table.csv", newline="") as fh:
        return [(row["run"], *(tables.fmt(float(row[c])) if row[c] != "—" else row[c] for c in columns))
                for row in csv.DictReader(fh)]


def test_sharded_batches_split_each_one_process_batch():
    shuffle = EpochShuffleSampler(10, seed=3)
    shuffle.set_epoch(2)
    order = list(shuffle)
    ranks = [ShardedBatches(10, 3, rank, 2, shuffle=shuffle) for rank in range(2)]
    batches = [list(r) for r in ranks]
    assert len(batches[0]) == len(batches[1]) == 4  # every rank steps as often as one process
    for k in range(3):
        assert batches[0][k] + batches[1][k] == order[3 * k:3 * k + 3]
    assert batches[0][3] == order[9:] and batches[1][3] == order[9:]  # rank 1's is a stand-in...
    assert ranks[1].weight(3) == 0 and ranks[0].weight(3) == 2  # ...that counts for nothing
    losses = [0.5 * i + 1 for i in range(10)]  # any per-example losses
    for k in range(4):  # DDP's mean over ranks of each rank's weighted mean loss is the global batch's mean
        means = [r.weight(k) * sum(losses[i] for i in b[k]) / len(b[k]) for r, b in zip(ranks, batches)]
        assert sum(means) / 2 == pytest.approx(sum(losses[i] for i in order[3 * k:3 * k + 3]) / len(order[3 * k:3 * k + 3]))
    assert [r.weight(0, summed=True) for r in ranks] == [2, 2]
    assert list(ShardedBatches(5, 4, 0, 2)) == [[0, 1], [4]]


@pytest.mark.slow
def test_two_processes_give_the_one_process_table_and_one_writer(dirs, tmp_path):
    lr_sweep.main(cli(dirs, *SWEEP))
    runs, out = tmp_path / "ddp_runs", tmp_path / "ddp_out"
    command, env = torchrun(2, [*SWEEP, "--runs-dir", str(runs), "--out", str(out), "--cache-dir", str(dirs["cache"]),
                                "--verbose", "0"])
    job = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert job.returncode == 0, job.stdout + job.stderr
    assert printed(out) == printed(dirs["out"])
    [one], [two] = (list(r.glob("*/result.json")) for r in (dirs["runs"], runs))
    assert one.parent.name == two.parent.name  # the same run identity: the global batch is the run's batch
    result = json.loads(two.read_text())
    assert result["processes"] == 2 and result["status"] == "finished"
    for a, b in zip(json.loads(one.read_text())["history"], result["history"]):
        assert a == pytest.approx(b, rel=1e-5)
    # one writer: the outputs announced once, one log line per epoch, no stray temporary files
    assert job.stdout.count("tables, figures and result JSONs written to") == 1
    assert job.stdout.count("[lr 0.001] training") == 1
    with open(two.parent / "log.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 2
    assert not list(runs.rglob("*.tmp")) and not list(out.rglob("*.tmp"))


@pytest.mark.slow
def test_two_processes_give_the_one_process_vae_whose_noise_is_drawn_for_the_global_batch(dirs, tmp_path):
    """The VAE samples: each rank's rows of the global batch's noise (through torchbearer's state) and its summed
    loss's weighting give the one-process history."""
    from experiments import vae_fruits
    vae = ["--quick", "--classes", "2", "--limit", "6", "--batch-size", "3", "--epochs", "2", "--device", "cpu"]
    vae_fruits.main(cli(dirs, *vae))
    runs, out = tmp_path / "ddp_runs", tmp_path / "ddp_out"
    command, env = torchrun(2, [*vae, "--runs-dir", str(runs), "--out", str(out), "--cache-dir", str(dirs["cache"]),
                                "--verbose", "0"], experiment="vae_fruits")
    job = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert job.returncode == 0, job.stdout + job.stderr
    [one], [two] = (list(r.glob("*/result.json")) for r in (dirs["runs"], runs))
    assert one.parent.name == two.parent.name
    for a, b in zip(json.loads(one.read_text())["history"], json.loads(two.read_text())["history"]):
        assert a == pytest.approx(b, rel=1e-4)


def child_pids(pid):
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def rank_of(pid):
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    ranks = [item[5:].decode() for item in environ if item.startswith(b"RANK=")]
    return int(ranks[0]) if ranks else None


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the ranks in /proc")
def test_a_killed_rank_fails_the_job_with_a_message(dirs):
    # 8 images a split: the first epoch (when the log appears) ends soon; 1000 epochs: training goes on long after
    command, env = torchrun(2, ["--lrs", "0.001", "--limit", "8", "--epochs", "1000", "--batch-size", "4",
                                "--device", "cpu", *cli(dirs)], timeout_s=20)
    job = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, victim = time.monotonic() + 120, None
        while victim is None and time.monotonic() < deadline and job.poll() is None:
            if list(dirs["runs"].glob("*/log.csv")):  # rank 0 has started training
                victim = next((pid for pid in child_pids(job.pid) if rank_of(pid) == 1), None)
            time.sleep(0.2)
        assert victim is not None, "rank 1 never started training"
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        output, _ = job.communicate(timeout=90)
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode != 0
    assert time.monotonic() - killed_at < 90
    assert "SIGKILL" in output and "experiments.lr_sweep FAILED" in output, output[-3000:]


@pytest.mark.slow
def test_spread_over_trains_each_run_of_a_sweep_once_resuming_an_interrupted_one(dirs):
    from torchbearer_colorize.data.tasks import colorization_data
    from torchbearer_colorize.training.runs import RunSpec, make_trial, run_dir, run_settings

    # lr 0.001 as a sweep interrupted after its first epoch leaves it: a checkpoint, no result
    small = ("--quick", "--limit", "2", "--batch-size", "2")  # 2 images a split: the runs only need to exist
    args = parse_options("lr_sweep", "", argv=cli(dirs, *small, "--device", "cpu"))
    data = colorization_data(args)
    spec = RunSpec("lr 0.001", lr=1e-3, epochs=2, batch_size=2)
    directory = run_dir(dirs["runs"], run_settings(spec, data, 0))
    directory.mkdir(parents=True)
    make_trial(lr_sweep.trial, spec, data, directory)[0].run(1, verbose=0)

    argv = [sys.executable, "-m", "experiments.lr_sweep", *small, "--epochs", "2", "--lrs", "0.001,0.01",
            "--spread-over", "cpu,cpu", *cli(dirs)]
    job = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert job.returncode == 0, job.stdout + job.stderr
    assert job.stdout.count("[lr 0.001] resuming after epoch 1") == 1, job.stdout
    for lr in ("0.001", "0.01"):
        assert job.stdout.count(f"[lr {lr}] training") == 1, job.stdout
    assert len(list(dirs["runs"].glob("*/result.json"))) == 2
    assert json.loads((directory / "result.json").read_text())["resumed_from_epoch"] == 1
    assert [row[0] for row in printed(dirs["out"])][:2] == ["lr 0.001", "lr 0.01"]


@pytest.mark.slow
def test_run_lock_is_released_when_its_holder_is_killed(tmp_path):
    directory = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from torchbearer_colorize.training.runs import run_lock\n"
        f"with run_lock(Path({str(directory)!r})):\n    print('locked', flush=True); time.sleep(60)")],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert run_locked(directory)
    finally:
        holder.kill()
        holder.wait()
    assert not run_locked(directory)
    with run_lock(directory):
        pass


def test_rows_noise_is_this_ranks_rows_of_the_global_batch_noise():
    import torch
    like = torch.zeros(2, 5)
    torch.manual_seed(1)
    noise = distributed.rows_noise(4, 2, 4)(like)
    torch.manual_seed(1)
    assert torch.equal(noise, torch.randn(4, 5)[2:4])
    assert distributed.rows_noise(4, 4, 4)(torch.zeros(1, 5)).shape == (1, 5)  # a stand-in row


def test_the_vae_draws_its_noise_from_what_across_ranks_puts_in_the_state():
    """No module-global noise hook: AcrossRanks puts this rank's noise drawer in torchbearer's state each step and
    the VAE's ``forward(x, state)`` reads it there; without it the VAE draws ``randn_like`` as on one process."""
    import torch
    import torchbearer

    from callbacks import AcrossRanks
    from torchbearer_colorize.models.vae import NOISE, VAELatent
    train = ShardedBatches(4, 4, 1, 2)  # rank 1 of 2: rows 2:4 of a global batch of 4
    callback = AcrossRanks(train, ShardedBatches(4, 4, 1, 2), mean=None, keys=(), noise=(NOISE, distributed.rows_noise))
    state = torchbearer.State()
    state[torchbearer.BATCH] = 0
    callback.on_sample(state)
    model, x = VAELatent().train(), torch.rand(2, 3, 100, 100)
    torch.manual_seed(1)
    mu, logvar = model.encode(x)
    with torch.no_grad():
        torch.manual_seed(1)
        ours = model(x, state)
        torch.manual_seed(1)
        expected = model.decode(mu + torch.randn(4, mu.shape[1])[2:4] * torch.exp(0.5 * logvar))
        torch.manual_seed(1)
        one_process = model(x, {})
        torch.manual_seed(1)
        plain = model.decode(mu + torch.randn_like(mu) * torch.exp(0.5 * logvar))
    assert torch.allclose(ours, expected) and torch.allclose(one_process, plain)
    assert not torch.allclose(ours, one_process)


def test_a_checkpoint_resumes_in_a_trial_with_appended_callbacks(tmp_path):
    """A one-process checkpoint resumes under torchrun, whose Trial appends ``AcrossRanks``, and back."""
    import numpy as np
    import torch
    import torchbearer
    from callbacks import StopOnNonFiniteLoss
    from callbacks.checkpoint import load_checkpoint
    from torchbearer_colorize.data.paintings import ColorizationDataset
    from torchbearer_colorize.data.tasks import TaskData
    from torchbearer_colorize.training.runs import RunSpec, make_trial

    images = np.random.default_rng(0).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    data = TaskData(ColorizationDataset(images[:4]), ColorizationDataset(images[4:]), label="t", fingerprint="t")
    spec = RunSpec("r", epochs=1, batch_size=2)
    for name in ("one", "more", "fewer"):
        (tmp_path / name).mkdir()
    trial, _ = make_trial(lr_sweep.trial, spec, data, tmp_path / "one")
    trial.run(1, verbose=0)
    # one more callback of ours, as AcrossRanks is (the loader allows this package's callback classes)
    more, _ = make_trial(lr_sweep.trial, spec, data, tmp_path / "more", callbacks=[StopOnNonFiniteLoss()])
    load_checkpoint(more, tmp_path / "one" / "checkpoint.pt")
    assert len(more.state[torchbearer.HISTORY]) == 1
    torch.save(more.state_dict(), tmp_path / "more" / "checkpoint.pt")
    fewer, _ = make_trial(lr_sweep.trial, spec, data, tmp_path / "fewer")
    load_checkpoint(fewer, tmp_path / "more" / "checkpoint.pt")  # the extra saved callback is ignored
    assert len(fewer.state[torchbearer.HISTORY]) == 1
