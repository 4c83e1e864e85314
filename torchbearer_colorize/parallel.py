"""Everything that changes when a run outgrows one process: torchrun/DDP, ``--compile``, ``--bf16`` and pinned
copies to CUDA, behind one seam, :func:`prepare`. On one process with neither flag it only moves the Trial
to its device (channels_last weights), and every other helper here is a no-op.

``torchrun --nproc_per_node=N -m experiments.<name> ...`` starts N copies of the experiment. Each finds its
rank in the environment torchrun sets (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``), joins a process group
(NCCL on CUDA, gloo on the CPU), trains its shard of every batch under ``DistributedDataParallel``, and only
rank 0 writes files. Collectives wait at most ``$TORCHBEARER_COLORIZE_DDP_TIMEOUT`` seconds (default 1800:
rank 0 may build a cache meanwhile), so a rank that dies or hangs makes the others fail instead of waiting.
"""
import atexit
import contextlib
import datetime
import inspect
import os

import torch
import torch.distributed as dist
import torchbearer
from torch import nn
from torch.utils.data import DataLoader, Sampler

from callbacks import AcrossRanks

from .errors import UserError

TIMEOUT_ENV = "TORCHBEARER_COLORIZE_DDP_TIMEOUT"
DEFAULT_TIMEOUT_S = 1800


def launched():
    """True when started by torchrun (or any launcher that sets ``WORLD_SIZE``) with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def active():
    """Whether this process is one of several trained together (torchrun's process group exists)."""
    return dist.is_available() and dist.is_initialized()


def is_main():
    """Whether this process writes outputs: the only one, or rank 0 of several."""
    return not active() or dist.get_rank() == 0


def rank():
    return dist.get_rank() if active() else 0


def world_size():
    return dist.get_world_size() if active() else 1


def setup(device="auto"):
    """Join the process group when launched by torchrun and return this process's device name.

    ``device`` is the ``--device`` option: ``auto`` and ``cuda`` become ``cuda:LOCAL_RANK`` (one GPU per
    process, NCCL); ``cpu`` trains on the CPU with gloo. One process: ``device`` unchanged. Calling it
    again (the report runs every experiment in one process) reuses the group."""
    if not launched():
        return device
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.startswith("cuda:"):
        raise UserError(f"--device {device}: under torchrun each process uses cuda:LOCAL_RANK; "
                        "pass --device cuda (or auto)")
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    if use_cuda:
        torch.cuda.set_device(local_rank)
    if not active():
        timeout = datetime.timedelta(seconds=float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S)))
        dist.init_process_group("nccl" if use_cuda else "gloo", timeout=timeout)
        atexit.register(shutdown)
    return f"cuda:{local_rank}" if use_cuda else "cpu"


def shutdown():
    if active():
        dist.destroy_process_group()


def barrier():
    if active():
        dist.barrier()


@contextlib.contextmanager
def main_first():
    """Rank 0 runs the block first (e.g. builds a cache file); the other ranks run it after rank 0 is
    done (and then read that file), so no file ever has two writers."""
    if active() and not is_main():
        dist.barrier()
    yield
    if active() and is_main():
        dist.barrier()


def broadcast(value):
    """Rank 0's ``value`` (any picklable object) on every rank: decisions all ranks must share."""
    if not active():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def mean(tensor):
    """The mean of ``tensor`` over the ranks (a detached copy)."""
    total = tensor.detach().clone()
    dist.all_reduce(total)
    return total / world_size()


def prepare(trial, device, *, channels_last=True, compile=False, autocast=False):
    """``trial``, an experiment's one-process Trial, made ready for ``device`` and returned.

    Always: the weights stored channels_last (oneDNN convolves them faster on the CPU; the arithmetic stays
    fp32). On CUDA the loaders pin their batches (:class:`ToDevice`). Under torchrun each rank loads its
    :class:`ShardedBatches` slice of every global batch, the model runs under DDP and
    :class:`~callbacks.AcrossRanks` makes losses and metrics the one-process ones."""
    device = torch.device(device)
    model = trial.state[torchbearer.MODEL]
    if channels_last:
        model.to(memory_format=torch.channels_last)
    train, test = trial.state[torchbearer.TRAIN_GENERATOR], trial.state[torchbearer.VALIDATION_GENERATOR]
    wrap, pin = None, device.type == "cuda"
    if active():  # each rank loads its slice of every batch
        model.to(device)  # DDP wants the parameters on their device before it wraps them
        batches = (ShardedBatches(len(train.dataset), train.batch_size, rank(), world_size(), shuffle=train.sampler),
                   ShardedBatches(len(test.dataset), test.batch_size, rank(), world_size()))
        train, test = (DataLoader(loader.dataset, batch_sampler=sampler, pin_memory=pin)
                       for loader, sampler in zip((train, test), batches))
        if hasattr(model, "draw_noise"):  # the VAE draws this rank's rows of the global batch's noise
            model.draw_noise = batch_noise
        summed = getattr(trial.state[torchbearer.CRITERION], "reduction", "mean") == "sum"
        trial.state[torchbearer.CALLBACK_LIST].append([AcrossRanks(*batches, mean, set_rows, summed=summed)])
        wrap = lambda module: nn.parallel.DistributedDataParallel(  # noqa: E731
            module, device_ids=[device.index] if device.type == "cuda" else None)
    elif pin:
        train, test = (DataLoader(loader.dataset, batch_size=loader.batch_size, sampler=loader.sampler,
                                  pin_memory=True) for loader in (train, test))
    if pin:
        train, test = ToDevice(train, device), ToDevice(test, device)
    if train is not trial.state[torchbearer.TRAIN_GENERATOR]:
        trial.with_generators(train, val_generator=test)
    if compile or autocast or wrap:
        trial.state[torchbearer.MODEL] = TrialModel(model, compile, device.type if autocast else None, wrap)
    return trial.to(device)


_rows = None  # (global batch size, start, stop) of this rank's rows in the current training batch


def set_rows(size, start, stop):
    """Which rows of the global batch this rank trains on now (set every step by ``AcrossRanks``)."""
    global _rows
    _rows = (size, start, stop)


def batch_noise(like):
    """``torch.randn_like(like)``, except under DDP: this rank's rows of the noise one process would draw
    for the whole global batch, so sampling (the VAE's) gives the one-process numbers too. Every rank
    draws the global batch's noise, so the random streams of all ranks stay equal."""
    if not active() or _rows is None:
        return torch.randn_like(like)
    size, start, stop = _rows
    noise = torch.randn((size, *like.shape[1:]), dtype=like.dtype, device=like.device)
    return noise[start:stop] if stop > start else noise[:len(like)]  # a stand-in row: any noise will do


class ShardedBatches(Sampler):
    """One rank's part of every global batch: a batch sampler for ``DistributedDataParallel``.

    The global batches are those one process would see (``batch_size`` consecutive indices of the order
    ``shuffle`` gives, or of ``range(n)``); rank ``r`` gets the ``r``-th contiguous slice of each, so every
    optimizer step sees exactly the one-process step's examples. (torch's ``DistributedSampler`` strides
    the epoch over the ranks and pads it with repeats.) A rank left no example by a short last batch gets
    its first index as a stand-in of loss ``weight`` 0, so all ranks run the same number of steps.
    No trained model here has (unfrozen) batch norm, so there is nothing for ``SyncBatchNorm`` to do.
    """

    def __init__(self, n, batch_size, rank, world, shuffle=None):
        self.n, self.batch_size, self.rank, self.world, self.shuffle = n, batch_size, rank, world, shuffle

    def set_epoch(self, epoch):
        if self.shuffle is not None:
            self.shuffle.set_epoch(epoch)

    def global_size(self, batch):
        return min(self.batch_size, self.n - batch * self.batch_size)

    def bounds(self, batch):
        """``(start, stop)`` of this rank's slice within global batch ``batch``: sizes differ by at most one."""
        size = self.global_size(batch)
        share, extra = divmod(size, self.world)
        start = self.rank * share + min(self.rank, extra)
        return start, start + share + (self.rank < extra)

    def weight(self, batch, summed=False):
        """What this rank's loss on ``batch`` is multiplied by so that DDP's mean over the ranks of the
        weighted losses (and of their gradients) is the one-process loss of the global batch: its share
        of the examples times ``world`` for a per-example mean; ``world`` for a sum; 0 for a stand-in."""
        start, stop = self.bounds(batch)
        if stop == start:
            return 0.0
        return float(self.world) if summed else (stop - start) * self.world / self.global_size(batch)

    def __iter__(self):
        order = list(self.shuffle) if self.shuffle is not None else list(range(self.n))
        for batch in range(len(self)):
            first = batch * self.batch_size
            start, stop = self.bounds(batch)
            yield order[first + start:first + stop] or [order[first]]

    def __len__(self):
        return -(-self.n // self.batch_size)


class TrialModel(nn.Module):
    """``model`` run through ``torch.compile``, bf16 autocast and/or a ``wrap`` (DDP), as a Trial needs it.

    torchbearer first calls ``model(x, state=state)``, where a compiled module fails and silently falls
    back to eager; this wrapper takes ``state`` itself (a model whose forward takes it, the VAE, fills a
    plain dict, copied into torchbearer's state; under DDP it returns it, ``StateAsOutput``). Outputs are
    cast back to fp32; the state dict is the bare model's, so checkpoints load with or without the wrapper.
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
