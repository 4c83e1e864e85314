"""The torchbearer Trial that trains one row of a report table: model, optimizer, loss, metrics, callbacks.

:func:`build_trial` is the whole recipe, as in torchbearer's notebooks; :mod:`.runs` stores and
resumes what it trains. Several processes (torchrun) are handled by :mod:`..parallel`, imported
only when a process group exists.
"""
import contextlib
import inspect
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import distributed as dist
from torch import nn
from torch.utils.data import DataLoader
from torchbearer import Trial
from torchbearer.callbacks import CSVLogger

from callbacks import AtomicCheckpoint, EpochSeed, KLDivergence, KLMetric, ReconstructionMetric, StopOnNonFiniteLoss

from ..models import build_model
from .seeding import EpochShuffleSampler

OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "adadelta": torch.optim.Adadelta}
# "mse": the colorization loss, a mean over pixels; "mse_sum": summed over pixels and batch (the VAE's,
# which with the KL term reproduces the report's loss scale)
LOSSES = {"mse": lambda: nn.MSELoss(), "mse_sum": lambda: nn.MSELoss(reduction="sum")}


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
    # A task whose loss depends on the data (class-rebalancing weights) supplies its criterion, which then
    # replaces ``LOSSES[spec.loss]`` (``spec.loss`` still names it in the run identity).
    criterion: object = None
    # Tasks whose targets are images get colour metrics and a baseline row, named here (None: no metrics):
    # ``baseline_predict(inputs)`` (default: the input itself taken as the prediction, gray copied to RGB).
    baseline: str = None
    baseline_predict: Callable = None


def launched():
    """True when started by torchrun (or any launcher that sets ``WORLD_SIZE``) with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def several_processes():
    """Whether this process is one of several trained together (torchrun's process group exists)."""
    return dist.is_available() and dist.is_initialized()


def is_main():
    """Whether this process writes outputs: the only one, or rank 0 of several."""
    return not several_processes() or dist.get_rank() == 0


def build_trial(spec, data, directory, *, seed=0, device="cpu", verbose=1, channels_last=True, compile=False,
                autocast=False, callbacks=(), tensorboard=None):
    """The Trial that trains ``spec`` on ``data``, with its log and checkpoint in ``directory``.

    Returns ``(trial, model)``: ``model`` is the bare model (what ``runs.save_model`` stores); the Trial
    runs it through :class:`TrialModel` when ``compile`` or ``autocast`` (bf16, CUDA) is asked for, or
    when several processes train. ``callbacks`` go after the run's own (the benchmark's timers).
    ``tensorboard`` (a folder): torchbearer's TensorBoard callback, last, writing to ``tensorboard/<run folder>``
    on the process that writes (:mod:`.tensorboard`).
    ``channels_last`` stores the weights NHWC, which oneDNN convolves faster on the CPU; the arithmetic
    stays fp32, so it is not part of a run's identity.
    """
    device = torch.device(device)
    torch.manual_seed(seed)
    model = build_model(spec.model, **spec.model_kwargs)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = OPTIMIZERS[spec.optimizer](model.parameters(), lr=spec.lr)
    criterion = data.criterion if data.criterion is not None else LOSSES[spec.loss]()
    metrics, loss_terms = ["loss"], []
    if spec.beta is not None:  # the beta-VAE: beta x KL added to the criterion's loss by a callback
        metrics += [KLMetric(), ReconstructionMetric()]
        loss_terms.append(KLDivergence(spec.beta))
    sampler = EpochShuffleSampler(len(data.train), seed)
    pin = device.type == "cuda"
    writes, wrap, across = True, None, []
    if several_processes():
        from ..parallel import distributed  # each rank loads its slice of every batch, rank 0 alone writes
        model = model.to(device)  # DDP wants the parameters on their device before it wraps them
        train_loader, test_loader, across = distributed.shard(model, spec, data, sampler, pin)
        writes, wrap = distributed.is_main(), lambda module: distributed.wrap(module, device)
    else:
        train_loader = DataLoader(data.train, batch_size=spec.batch_size, sampler=sampler, pin_memory=pin)
        test_loader = DataLoader(data.test, batch_size=spec.batch_size, pin_memory=pin)
    if pin:
        train_loader, test_loader = ToDevice(train_loader, device), ToDevice(test_loader, device)
    trial_model = model
    if compile or autocast or wrap:
        trial_model = TrialModel(model, compile=compile, autocast_device=device.type if autocast else None, wrap=wrap)
    directory = Path(directory)
    if tensorboard and writes:
        from .tensorboard import RunTensorBoard
        callbacks = [*callbacks, RunTensorBoard(Path(tensorboard) / directory.name, model, data, device)]
    trial = Trial(
        trial_model, optimizer, criterion, metrics=metrics, verbose=verbose,
        # The order is part of the checkpoint: a resumed Trial must list the same callbacks (``across``, under
        # torchrun, and TensorBoard are appended last so a checkpoint resumes with or without them).
        callbacks=[*loss_terms, EpochSeed(seed, sampler, data.train), StopOnNonFiniteLoss(),
                   CSVLogger(str(directory / "log.csv") if writes else os.devnull, append=True,
                             write_header=not (directory / "log.csv").exists()),  # a resumed run's has one
                   AtomicCheckpoint(directory / "checkpoint.pt", enabled=writes), *across, *callbacks],
    ).with_generators(train_loader, val_generator=test_loader).to(device)
    return trial, model


class TrialModel(nn.Module):
    """``model`` run through ``torch.compile``, bf16 autocast and/or a ``wrap`` (DDP), in the form a
    torchbearer Trial needs.

    torchbearer first calls ``model(x, state=state)``; a compiled module fails there and torchbearer
    silently falls back to eager. This wrapper takes ``state`` itself: a model whose forward takes
    ``state`` (the VAE) gets a plain dict, copied into torchbearer's state afterwards. Under autocast the
    outputs are cast back to fp32, so losses and the KL stay fp32. The state dict is the wrapped model's
    own, so checkpoints load with or without the wrapper. A wrapped model that takes ``state`` returns
    its dict instead (``StateAsOutput``), since DDP would copy a dict given to it.
    """

    def __init__(self, model, compile=False, autocast_device=None, wrap=None):
        super().__init__()
        self.model = model
        self.takes_state = "state" in inspect.signature(model.forward).parameters
        forward = model
        if wrap is not None:
            forward = wrap(StateAsOutput(model) if self.takes_state else model)
        # a tuple keeps the compiled module out of the module tree (it shares ``model``'s parameters)
        self._forward = (torch.compile(forward) if compile else forward,)
        self.returns_state = wrap is not None and self.takes_state
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
