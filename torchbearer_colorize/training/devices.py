"""``--spread-over cuda:0,cuda:1,...``: the independent runs of a sweep trained side by side, one worker per device.

The parent starts one worker per device: the same experiment command with ``--device D --worker``. Each
worker takes the runs no other worker is training (under their run-store locks, ``runs.run_lock``), in an
order rotated by its index, and writes no tables or figures; a killed worker's run resumes on the next
invocation, as on one device. The parent then reuses the finished runs and writes the outputs as usual.
"""
import os
import subprocess
import sys

try:
    import fcntl
except ImportError:  # Windows: no run locks
    fcntl = None

from ..errors import UserError

SPREAD_OPTIONS = ("--spread-over", "--devices")  # the second: its deprecated spelling


def worker_command(args, index, device):
    """The command a worker runs: the experiment's own, minus ``--spread-over`` and ``--force`` (the parent has
    forced already), plus its device."""
    argv, skip = [], False
    for item in args.argv:
        if skip:
            skip = False
        elif item in SPREAD_OPTIONS:
            skip = True
        elif not item.startswith(tuple(f"{option}=" for option in SPREAD_OPTIONS)) and item != "--force":
            argv.append(item)
    return [sys.executable, "-m", f"experiments.{args.experiment}", *argv, "--device", device, "--worker",
            "--worker-index", str(index)]


def spread(args, n_runs, log=print):
    """Train an experiment's ``n_runs`` runs over ``args.spread_over``, one worker process per device; returns when
    all are done."""
    cpu_workers = sum(device == "cpu" for device in args.spread_over)
    env = dict(os.environ)
    if cpu_workers:  # CPU workers share the cores instead of each taking all of them
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // cpu_workers)))
    log(f"spreading {n_runs} run(s) over {', '.join(args.spread_over)}")
    workers = [(device, subprocess.Popen(worker_command(args, i, device), env=env))
               for i, device in enumerate(args.spread_over)]
    failed = [(device, code) for device, worker in workers if (code := worker.wait()) != 0]
    if failed:
        raise UserError("--spread-over: the worker(s) on " + ", ".join(f"{device} (exit {code})"
                                                                       for device, code in failed)
                        + " failed; finished runs are kept, rerun the command to resume the others")


def worker_share(specs, directories, index):
    """One worker's share of ``specs`` (run folders ``directories``): those nobody else is training when it
    comes to them, starting from its own ``index``."""
    start = index % len(specs) if specs else 0
    order = list(zip(specs, directories))
    for spec, directory in order[start:] + order[:start]:
        if not run_locked(directory):  # else another worker trains it; the parent reuses it afterwards
            yield spec


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
