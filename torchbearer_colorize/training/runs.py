"""One run = one torchbearer Trial, identified by its settings and stored under the runs folder.

A finished run is never trained twice: its ``result.json`` (settings, per-epoch losses, final
numbers, status, timing, versions) and ``model.pt`` are reused; an unfinished one resumes from its
last epoch checkpoint.
"""
import contextlib
import dataclasses
import datetime
import inspect
import json
import math
import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from typing import Callable
from pathlib import Path

try:
    import fcntl
    import resource
except ImportError:  # Windows
    fcntl = resource = None

import torch
import torchbearer
import torchvision
from torch import nn
from torch.utils.data import DataLoader
from torchbearer import Trial
from torchbearer.callbacks import CSVLogger

from callbacks import (AcrossRanks, AtomicCheckpoint, EpochSeed, KLDivergence, KLMetric, ReconstructionMetric,
                       StopOnNonFiniteLoss)
from callbacks.checkpoint import load_checkpoint

from .. import __version__
from ..parallel import distributed
from ..atomic import atomic_path, write_json
from ..data.cache import fingerprint
from ..models import build_model
from .seeding import EpochShuffleSampler, ShardedBatches

OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "adadelta": torch.optim.Adadelta}
# "mse": the colorization loss, a mean over pixels; "mse_sum": summed over pixels and batch (the VAE's,
# which with the KL term reproduces the report's loss scale)
LOSSES = {"mse": lambda: nn.MSELoss(), "mse_sum": lambda: nn.MSELoss(reduction="sum")}
OPTIMIZER_NAMES = {"adam": "Adam", "sgd": "SGD", "adadelta": "Adadelta"}


@dataclass(frozen=True)
class RunSpec:
    """What to train for one row of a report table."""
    name: str  # the table's "run" column, e.g. "lr 0.001"
    model: str = "small"
    optimizer: str = "adam"
    lr: float = 1e-3
    epochs: int = 5
    batch_size: int = 32  # the global batch: under torchrun each of N processes takes about 1/N of it
    model_kwargs: dict = field(default_factory=dict)
    loss: str = "mse"
    beta: float = None  # a beta-VAE's KL weight: adds the KLDivergence callback and its metrics


@dataclass
class TaskData:
    """A train and a test ``Dataset`` of (input, target) pairs, and what identifies them."""
    train: object
    test: object
    label: str  # e.g. "built-in sample set, not the report's paintings"
    fingerprint: str
    task: str = "colorize"  # what input and target mean; part of the run identity
    # Sample grids show ``display`` items (default: ``test``) through ``display_model(trained model)``:
    # the inception decoder trains on cached features but is shown on gray images.
    display: object = None
    display_model: Callable = None
    row_labels: tuple = ("gray input", "prediction", "ground truth")
    # A task whose loss depends on the data (e.g. class-rebalancing weights) supplies its criterion,
    # which then replaces ``LOSSES[spec.loss]`` (``spec.loss`` still names it in the run identity),
    # and any extra torchbearer callbacks it needs.
    criterion: object = None
    callbacks: tuple = ()
    # Tasks whose targets are images get colour metrics and a baseline row: the input itself taken as
    # the prediction, named here (None: no metrics, e.g. the VAE). ``predict(model)`` maps a trained
    # model to a batch-to-RGB function (default: the model's forward).
    baseline: str = None
    predict: Callable = None


def run_settings(spec, data, seed, autocast=False):
    """The settings that identify a run; two runs with equal settings are the same run.

    ``autocast`` (bf16 on CUDA) changes the arithmetic, so it enters the settings, but only when on:
    the identity of fp32 runs stays what it always was. ``torch.compile`` does not enter them: it
    runs the same fp32 operations (only fused, so results may differ in the last bits, as with
    ``channels_last``), and its checkpoints are interchangeable with eager ones."""
    return {
        "task": data.task, "model": spec.model, "model_kwargs": spec.model_kwargs,
        "optimizer": spec.optimizer, "lr": spec.lr, "epochs": spec.epochs,
        "batch_size": spec.batch_size, "loss": spec.loss, "data": data.fingerprint, "seed": seed,
        **({"beta": spec.beta} if spec.beta is not None else {}),
        **({"autocast": "bf16"} if autocast else {}),
    }


def run_dir(runs_dir, settings):
    slug = (f"{settings['task']}-{settings['model']}-{settings['optimizer']}-lr{settings['lr']:g}"
            f"-e{settings['epochs']}-b{settings['batch_size']}-s{settings['seed']}")
    return Path(runs_dir) / f"{slug}-{fingerprint(settings)}"


def resolve_device(name="auto"):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def versions():
    return {"python": platform.python_version(), "torch": torch.__version__,
            "torchvision": torchvision.__version__, "torchbearer": torchbearer.__version__,
            "torchbearer_colorize": __version__}


class TrialModel(nn.Module):
    """``model`` run through ``DistributedDataParallel``, ``torch.compile`` and/or bf16 autocast, in the
    form a torchbearer Trial needs.

    torchbearer first calls ``model(x, state=state)``; a compiled module fails there and torchbearer
    silently falls back to eager (notes, pitfall 6). This wrapper takes ``state`` itself: a model whose
    forward takes ``state`` (the VAE) gets a plain dict, copied into torchbearer's state afterwards.
    Under autocast the outputs are cast back to fp32, so losses and the KL stay fp32. The state dict is
    the wrapped model's own, so checkpoints load with or without the wrapper. ``ddp_device``: wrap in
    ``DistributedDataParallel`` (torchbearer's documented pattern: the DDP module inside the Trial); a
    model that takes ``state`` then returns its dict instead, since DDP would copy a dict given to it.
    """

    def __init__(self, model, compile=False, autocast_device=None, ddp_device=None):
        super().__init__()
        self.model = model
        self.takes_state = "state" in inspect.signature(model.forward).parameters
        forward = model
        if ddp_device is not None:
            forward = distributed.wrap(StateAsOutput(model) if self.takes_state else model, ddp_device)
        # a tuple keeps the compiled module out of the module tree (it shares ``model``'s parameters)
        self._forward = (torch.compile(forward) if compile else forward,)
        self.returns_state = ddp_device is not None and self.takes_state
        self.autocast_device = autocast_device

    def forward(self, x, state=None):
        extra = {} if self.takes_state else None
        cast = (torch.autocast(self.autocast_device, dtype=torch.bfloat16) if self.autocast_device
                else contextlib.nullcontext())
        with cast:
            if self.returns_state:
                y, extra = self._forward[0](x)
            else:
                y = self._forward[0](x, extra) if self.takes_state else self._forward[0](x)
        if self.autocast_device:
            y = y.float()
            extra = extra and {key: value.float() for key, value in extra.items()}
        if state is not None and extra:
            state.update(extra)
        return y

    def state_dict(self, *args, **kwargs):
        return self.model.state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict, *args, **kwargs):
        return self.model.load_state_dict(state_dict, *args, **kwargs)


class StateAsOutput(nn.Module):
    """A model whose ``forward(x, state)`` fills ``state``, as one that returns ``(y, state)``."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        extra = {}
        return self.model(x, extra), extra


def build_trial(spec, data, directory, *, seed=0, device="cpu", verbose=1, channels_last=True, compile=False,
                autocast=False, callbacks=()):
    """The Trial that trains ``spec`` on ``data`` with its checkpoint and log in ``directory``.

    Returns ``(trial, model)``: ``model`` is the bare model (what ``save_model`` stores); the Trial
    runs it through :class:`TrialModel` when ``compile`` or ``autocast`` (bf16, CUDA) is asked for, or
    when several processes train (``DistributedDataParallel``). ``callbacks`` go after the run's own
    (the benchmark's timers).

    Under torchrun every rank builds the same Trial (same seed, same callbacks, so any rank can resume
    rank 0's checkpoint) but loads only its :class:`ShardedBatches` part of each global batch, and only
    rank 0 writes the log and the checkpoint.
    """
    device = torch.device(device)
    torch.manual_seed(seed)
    model = build_model(spec.model, **spec.model_kwargs)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = OPTIMIZERS[spec.optimizer](model.parameters(), lr=spec.lr)
    sampler = EpochShuffleSampler(len(data.train), seed)
    pin = device.type == "cuda"
    ddp = distributed.active()
    if ddp:
        world, rank = distributed.world_size(), distributed.rank()
        train_batches = ShardedBatches(len(data.train), spec.batch_size, rank, world, shuffle=sampler)
        test_batches = ShardedBatches(len(data.test), spec.batch_size, rank, world)
        train_loader = DataLoader(data.train, batch_sampler=train_batches, pin_memory=pin)
        test_loader = DataLoader(data.test, batch_sampler=test_batches, pin_memory=pin)
        model = model.to(device)  # DDP wants the parameters on their device before it wraps them
    else:
        train_loader = DataLoader(data.train, batch_size=spec.batch_size, sampler=sampler, pin_memory=pin)
        test_loader = DataLoader(data.test, batch_size=spec.batch_size, pin_memory=pin)
    if pin:
        train_loader, test_loader = ToDevice(train_loader, device), ToDevice(test_loader, device)
    checkpoint = Path(directory) / "checkpoint.pt"
    writes = distributed.is_main()
    metrics, extra_callbacks = ["loss"], []
    if spec.beta is not None:
        metrics += [KLMetric(), ReconstructionMetric()]
        extra_callbacks.append(KLDivergence(spec.beta))
    criterion = data.criterion if data.criterion is not None else LOSSES[spec.loss]()
    trial_model = model
    if compile or autocast or ddp:
        trial_model = TrialModel(model, compile=compile, autocast_device=device.type if autocast else None,
                                 ddp_device=device if ddp else None)
    # Across the ranks: the loss weighted and reduced (appended last, so a one-process checkpoint
    # resumes under torchrun and back, see ``load_checkpoint``).
    across = [AcrossRanks(train_batches, test_batches, distributed.mean, distributed.set_rows,
                           summed=spec.loss == "mse_sum")] if ddp else []
    trial = Trial(
        trial_model, optimizer, criterion, metrics=metrics, verbose=verbose,
        # The order is part of the checkpoint: a resumed Trial must list the same callbacks.
        callbacks=[*extra_callbacks, *data.callbacks, EpochSeed(seed, sampler, data.train), StopOnNonFiniteLoss(),
                   CSVLogger(str(Path(directory) / "log.csv") if writes else os.devnull, append=True),
                   AtomicCheckpoint(checkpoint, enabled=writes), *across, *callbacks],
    ).with_generators(train_loader, val_generator=test_loader).to(device)
    return trial, model


class ToDevice:
    """``loader``'s batches copied to ``device`` without blocking the host (the loader pins them), so the
    copy of one batch overlaps the device's work on the previous one; torchbearer's own ``.to(device)``
    of the batch is then a no-op. Other attributes (``sampler``, ``dataset``) are the loader's."""

    def __init__(self, loader, device):
        self.loader, self.device = loader, torch.device(device)

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for batch in self.loader:
            yield tuple(item.to(self.device, non_blocking=True) for item in batch)

    def __getattr__(self, name):
        if name == "loader":  # not set yet (e.g. while unpickling)
            raise AttributeError(name)
        return getattr(self.loader, name)


def train(spec, data, *, runs_dir="runs", seed=0, device="auto", force=False, verbose=1, channels_last=True,
          compile=False, autocast=False, log=print):
    """Train ``spec`` on ``data`` (or reuse the stored run) and return its result dict.

    ``channels_last`` stores the weights NHWC, which oneDNN convolves about 1.5x faster on this
    CPU (measured); the arithmetic stays fp32, so it is not part of the run's identity.
    ``compile`` runs the model through ``torch.compile`` (not part of the identity either, see
    :func:`run_settings`); ``autocast`` computes in bf16 on CUDA (part of the identity when on).

    Under torchrun all ranks train the run together and rank 0 alone decides (reuse, resume) and
    writes; the others return once rank 0's files are complete. The global batch size is the run's,
    so a run trained on N processes is the same stored run as on one.
    """
    device = resolve_device(device)
    if autocast and device.type != "cuda":
        raise ValueError(f"bf16 autocast is offered on CUDA only, not on {device}")
    if not distributed.is_main():
        log, verbose = (lambda *_: None), 0
    settings = run_settings(spec, data, seed, autocast=autocast)
    directory = run_dir(runs_dir, settings)
    result_path = directory / "result.json"
    with run_lock(directory):
        return _train(spec, data, settings, directory, result_path, seed=seed, device=device, force=force,
                      verbose=verbose, channels_last=channels_last, compile=compile, autocast=autocast, log=log)


def _train(spec, data, settings, directory, result_path, *, seed, device, force, verbose, channels_last, compile,
           autocast, log):
    checkpoint = directory / "checkpoint.pt"
    if distributed.is_main() and force and directory.exists():
        for path in directory.iterdir():  # all but the lock, which this process holds
            if path.is_dir():
                shutil.rmtree(path)
            elif path.name != ".lock":
                path.unlink()
    finished, resume = distributed.broadcast((result_path.exists(), checkpoint.exists()))
    if finished:
        log(f"[{spec.name}] reusing the finished run in {directory} (--force retrains)")
        # The name labels a table row; the same run may be a row of several tables.
        return {**json.loads(result_path.read_text()), "run": spec.name}
    directory.mkdir(parents=True, exist_ok=True)

    trial, model = build_trial(spec, data, directory, seed=seed, device=device, verbose=verbose,
                               channels_last=channels_last, compile=compile, autocast=autocast)
    resumed_from = 0
    if resume:
        load_checkpoint(trial, checkpoint)
        resumed_from = len(trial.state[torchbearer.HISTORY])
        log(f"[{spec.name}] resuming after epoch {resumed_from} from {checkpoint}")
    world = distributed.world_size()
    log(f"[{spec.name}] training {spec.model} with {spec.optimizer} lr {spec.lr:g}, {spec.epochs} epochs, "
        f"batch {spec.batch_size}, {len(data.train)} train / {len(data.test)} test images on {device}"
        + "".join(f", {flag}" for flag, on in (("compiled", compile), ("bf16 autocast", autocast),
                                                (f"{world} processes (DDP)", world > 1)) if on))
    start = time.perf_counter()
    history = trial.run(spec.epochs)
    seconds = time.perf_counter() - start

    epochs = [epoch_record(i + 1, h) for i, h in enumerate(history)]
    finite = all(math.isfinite(v) for e in epochs for v in e.values())
    status = "finished" if finite and len(epochs) == spec.epochs else "diverged"
    result = {
        "run": spec.name, "settings": settings, "status": status, "history": epochs,
        "test_loss": epochs[-1]["test_loss"] if epochs else float("nan"),
        "train_loss": epochs[-1]["train_loss"] if epochs else float("nan"),
        "data": data.label, "n_train": len(data.train), "n_test": len(data.test),
        "seconds": round(seconds, 2), "resumed_from_epoch": resumed_from, "device": str(device),
        "threads": torch.get_num_threads(), "channels_last": channels_last,
        "compiled": bool(compile), "versions": versions(),
        "peak_rss_mb": peak_rss_mb(),
        "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **({"processes": world} if world > 1 else {}),
    }
    if distributed.is_main():
        save_model(directory / "model.pt", spec, model)
        write_json(result_path, result)  # written last: its presence means the run is complete
    distributed.barrier()  # no rank goes on (to read model.pt, say) before rank 0 has written it
    log(f"[{spec.name}] {status} in {seconds:.1f} s: test loss {result['test_loss']:.5g}, "
        f"train loss {result['train_loss']:.5g}")
    return result


@contextlib.contextmanager
def run_lock(directory):
    """Hold ``directory``'s run lock while training it: another process (a ``--devices`` worker, a second
    job on the same run store) that wants the same run waits, then finds it finished and reuses it, so a
    run is trained and recorded once. The lock is the operating system's (``flock``): a killed process
    releases it, so an interrupted run resumes as always. Under torchrun rank 0 holds it for all ranks.
    No-op where ``fcntl`` is missing (Windows)."""
    if fcntl is None or not distributed.is_main():
        yield
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle = open(directory / ".lock", "a")
    except OSError:  # a read-only store: nothing is trained there, so there is nothing to guard
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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


def peak_rss_mb():
    """This process's peak resident memory so far, in MiB (Linux reports KiB, macOS bytes); None on Windows."""
    if resource is None:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2 ** 20 if platform.system() == "Darwin" else 2 ** 10), 1)


def epoch_record(epoch, metrics):
    """One epoch of torchbearer's history as ``train_<metric>`` / ``test_<metric>`` floats."""
    record = {"epoch": epoch}
    for key, value in metrics.items():
        if key.startswith("running_") or key.endswith("_steps"):
            continue
        record[f"test_{key[4:]}" if key.startswith("val_") else f"train_{key}"] = float(value)
    return record


def save_model(path, spec, model):
    """Weights plus what rebuilds the model; loadable with ``torch.load(weights_only=True)``."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save({"model": spec.model, "model_kwargs": dict(spec.model_kwargs), "state_dict": state}, tmp)


def load_model(path, device="cpu"):
    """The trained model saved by :func:`save_model`, in eval mode."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(saved["model"], **saved["model_kwargs"])
    model.load_state_dict(saved["state_dict"])
    return model.to(device).eval()


def with_overrides(spec, **overrides):
    """``spec`` with the non-None ``overrides`` applied (e.g. ``epochs`` from the command line)."""
    return dataclasses.replace(spec, **{k: v for k, v in overrides.items() if v is not None})
