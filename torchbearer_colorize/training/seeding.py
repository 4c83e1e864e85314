"""All randomness of a run is a function of (seed, epoch), so a resumed run repeats an unbroken one."""
import torch
from torch.utils.data import Sampler

from callbacks.epoch_seed import derive_seed


class EpochShuffleSampler(Sampler):
    """Shuffles ``n`` indices in an order fixed by ``(seed, epoch)``; the epoch is set by a callback."""

    def __init__(self, n, seed):
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __iter__(self):
        generator = torch.Generator().manual_seed(derive_seed(self.seed, self.epoch))
        return iter(torch.randperm(self.n, generator=generator).tolist())

    def __len__(self):
        return self.n


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
