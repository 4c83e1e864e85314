"""Training on several processes with ``torchrun``: the process group and the few collective steps.

``torchrun --nproc_per_node=N -m experiments.<name> ...`` starts N copies of the experiment. Each
finds its rank in the environment torchrun sets (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``), joins a
process group (NCCL on CUDA, gloo on the CPU), trains its shard of every batch under
``DistributedDataParallel``, and only rank 0 writes files. Without torchrun (``WORLD_SIZE`` unset or
1) nothing here does anything: every helper is a no-op on one process.

Collectives wait at most ``$TORCHBEARER_COLORIZE_DDP_TIMEOUT`` seconds (default 1800: rank 0 may
build a cache meanwhile), so a rank that dies or hangs makes the others fail instead of waiting
forever; under torchrun a rank that dies also makes torchrun stop the others at once.
"""
import atexit
import contextlib
import datetime
import os

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Sampler

from callbacks import AcrossRanks

from ..errors import UserError
from ..training.trial import is_main, launched, several_processes as active

TIMEOUT_ENV = "TORCHBEARER_COLORIZE_DDP_TIMEOUT"
DEFAULT_TIMEOUT_S = 1800


def rank():
    return dist.get_rank() if active() else 0


def world_size():
    return dist.get_world_size() if active() else 1


def timeout():
    seconds = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S))
    return datetime.timedelta(seconds=seconds)


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
        dist.init_process_group("nccl" if use_cuda else "gloo", timeout=timeout())
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
    """The mean of ``tensor`` over the ranks (a detached copy; ``tensor`` itself on one process)."""
    if not active():
        return tensor
    total = tensor.detach().clone()
    dist.all_reduce(total)
    return total / world_size()


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


def wrap(module, device):
    """``module`` under ``DistributedDataParallel`` (which averages gradients over the ranks).

    No trained model here has batch norm (the inception encoder's is frozen, and its features are
    cached), so there is nothing for ``SyncBatchNorm`` to synchronise; a model that adds it would need
    ``nn.SyncBatchNorm.convert_sync_batchnorm`` for its numbers to match one process."""
    device = torch.device(device)
    return torch.nn.parallel.DistributedDataParallel(
        module, device_ids=[device.index] if device.type == "cuda" else None)


def shard(model, spec, data, sampler, pin):
    """This rank's loaders (its :class:`ShardedBatches` slice of every global batch) and the
    :class:`AcrossRanks` callback that makes losses and metrics the one-process ones. A model that
    samples (the VAE's ``draw_noise``) draws this rank's rows of the global batch's noise instead."""
    train_batches = ShardedBatches(len(data.train), spec.batch_size, rank(), world_size(), shuffle=sampler)
    test_batches = ShardedBatches(len(data.test), spec.batch_size, rank(), world_size())
    if hasattr(model, "draw_noise"):
        model.draw_noise = batch_noise
    across = AcrossRanks(train_batches, test_batches, mean, set_rows, summed=spec.loss == "mse_sum")
    return (DataLoader(data.train, batch_sampler=train_batches, pin_memory=pin),
            DataLoader(data.test, batch_sampler=test_batches, pin_memory=pin), [across])


class ShardedBatches(Sampler):
    """One rank's part of every global batch: a batch sampler for ``DistributedDataParallel``.

    The global batches are those one process would see: ``batch_size`` consecutive indices of the
    order ``order(epoch)`` (an :class:`EpochShuffleSampler`, or ``range(n)`` for evaluation). Rank ``r``
    of ``world`` gets the ``r``-th contiguous slice of each, so every optimizer step sees exactly the
    examples of the one-process step. torch's ``DistributedSampler`` deals out the whole epoch's order
    strided over the ranks and pads it with repeated examples, which changes which examples share a
    step and how often each counts; this does neither.

    A global batch smaller than ``world`` (a short last batch) leaves some ranks no example: they get
    the batch's first index as a stand-in whose loss ``weight`` is 0, so every rank runs the same
    number of steps (DDP needs that) and the stand-in adds nothing.
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
