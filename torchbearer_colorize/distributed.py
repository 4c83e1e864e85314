"""torchrun: one run trained by several processes under ``DistributedDataParallel``, with the one-process numbers.
A one-process run never goes past :func:`is_main` and friends here, which are then no-ops.

``torchrun --nproc_per_node=N -m experiments.<name> ...`` starts N copies of the experiment. Each finds its
rank in the environment torchrun sets (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``), joins a process group
(NCCL on CUDA, gloo on the CPU), trains its shard of every batch under ``DistributedDataParallel``
(:func:`shard`), and only rank 0 writes files. Collectives wait at most ``$TORCHBEARER_COLORIZE_DDP_TIMEOUT``
seconds (default 1800: rank 0 may build a cache meanwhile), so a rank that dies or hangs makes the others fail
instead of waiting.
"""
import atexit
import contextlib
import datetime
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


def shard(trial, device):
    """Under torchrun: ``trial`` made to train this rank's slice of every global batch (:class:`ShardedBatches`),
    with :class:`~callbacks.AcrossRanks` making its losses, loss terms and metrics the one-process ones; returns
    the wrap that puts the model under DDP. A model that samples (``noise_key``: the VAE) draws this rank's rows
    of the global batch's noise, passed in torchbearer's state under that key."""
    model = trial.state[torchbearer.MODEL]
    model.to(device)  # DDP wants the parameters on their device before it wraps them
    train, test = trial.state[torchbearer.TRAIN_GENERATOR], trial.state[torchbearer.VALIDATION_GENERATOR]
    batches = (ShardedBatches(len(train.dataset), train.batch_size, rank(), world_size(), shuffle=train.sampler),
               ShardedBatches(len(test.dataset), test.batch_size, rank(), world_size()))
    trial.with_generators(*(DataLoader(loader.dataset, batch_sampler=sampler)
                            for loader, sampler in zip((train, test), batches)))
    callbacks = trial.state[torchbearer.CALLBACK_LIST].callback_list
    terms = [key for callback in callbacks for key in getattr(callback, "loss_terms", ())]
    noise_key = getattr(model, "noise_key", None)
    summed = getattr(trial.state[torchbearer.CRITERION], "reduction", "mean") == "sum"
    trial.state[torchbearer.CALLBACK_LIST].append([
        AcrossRanks(*batches, mean, keys=(torchbearer.LOSS, *terms), summed=summed,
                    noise=(noise_key, rows_noise) if noise_key else None)])
    return lambda module: nn.parallel.DistributedDataParallel(
        module, device_ids=[device.index] if device.type == "cuda" else None)


def rows_noise(size, start, stop):
    """A ``torch.randn_like`` for rows ``start:stop`` of a global batch of ``size``: it draws the whole batch's
    noise, as one process would, and keeps those rows, so sampling (the VAE's) gives the one-process numbers;
    every rank draws it all, so the random streams of all ranks stay equal."""
    def draw(like):
        noise = torch.randn((size, *like.shape[1:]), dtype=like.dtype, device=like.device)
        return noise[start:stop] if stop > start else noise[:len(like)]  # a stand-in row: any noise will do
    return draw


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
