"""``--devices cuda:0,cuda:1,...``: the independent runs of a sweep trained side by side, one worker per device.

The parent starts one worker per device: the same experiment command with ``--device D --worker``. Each
worker takes the runs no other worker is training (under their run-store locks, ``runs.run_lock``), in an
order rotated by its index, and writes no tables or figures; a killed worker's run resumes on the next
invocation, as on one device. The parent then reuses the finished runs and writes the outputs as usual.
"""
import os
import shutil
import subprocess
import sys

try:
    import fcntl
except ImportError:  # Windows: no run locks
    fcntl = None

from ..errors import UserError
from .runs import run_dir, run_settings, train, with_overrides


def worker_command(args, index, device):
    """The command a worker runs: the experiment's own, minus ``--devices``, plus its device."""
    argv, skip = [], False
    for item in args.argv:
        if skip:
            skip = False
        elif item == "--devices":
            skip = True
        elif not item.startswith("--devices=") and item != "--force":  # the parent has forced already
            argv.append(item)
    return [sys.executable, "-m", f"experiments.{args.experiment}", *argv, "--device", device, "--worker",
            "--worker-index", str(index)]


def spread(args, specs, data, log=print):
    """Train ``specs`` over ``args.devices``, one worker process per device; returns when all are done.

    ``--force`` is done here, once, before the workers start (then turned off): two workers given it
    could each retrain a run the other has just finished."""
    if args.force:
        for spec in specs:
            spec = with_overrides(spec, epochs=args.epochs, batch_size=args.batch_size)
            shutil.rmtree(run_dir(args.runs_dir, run_settings(spec, data, args.seed, autocast=args.bf16)),
                          ignore_errors=True)
        args.force = False
    cpu_workers = sum(device == "cpu" for device in args.devices)
    env = dict(os.environ)
    if cpu_workers:  # CPU workers share the cores instead of each taking all of them
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // cpu_workers)))
    log(f"spreading {len(specs)} run(s) over {', '.join(args.devices)}")
    workers = [(device, subprocess.Popen(worker_command(args, i, device), env=env))
               for i, device in enumerate(args.devices)]
    failed = [(device, code) for device, worker in workers if (code := worker.wait()) != 0]
    if failed:
        raise UserError("--devices: the worker(s) on " + ", ".join(f"{device} (exit {code})" for device, code in failed)
                        + " failed; finished runs are kept, rerun the command to resume the others")


def work(args, specs, data, trial):
    """One worker's share: the runs nobody else is training, starting from its own index."""
    specs = [with_overrides(spec, epochs=args.epochs, batch_size=args.batch_size) for spec in specs]
    start = args.worker_index % len(specs) if specs else 0
    for spec in specs[start:] + specs[:start]:
        directory = run_dir(args.runs_dir, run_settings(spec, data, args.seed, autocast=args.bf16))
        if run_locked(directory):
            continue  # another worker trains it; the parent reuses it afterwards
        train(spec, data, trial, runs_dir=args.runs_dir, seed=args.seed, device=args.device, force=args.force,
              verbose=args.verbose, compile=args.compile, autocast=args.bf16, tensorboard=args.tensorboard,
              log=lambda message: print(f"[worker {args.worker_index}, {args.device}] {message}", flush=True))


def run_locked(directory):
    """Whether another process holds ``directory``'s run lock now (is training that run)."""
    if fcntl is None or not (directory / ".lock").exists():
        return False
    with open(directory / ".lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
