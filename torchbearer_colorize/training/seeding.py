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
