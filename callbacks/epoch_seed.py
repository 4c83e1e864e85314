import torch
import torchbearer
from torchbearer.callbacks import Callback

from torchbearer_colorize.seeding import derive_seed


class EpochSeed(Callback):
    """At the start of every epoch, reseed torch and the shuffling sampler from ``(seed, epoch)``.

    A run resumed at epoch k then draws exactly what an uninterrupted run draws at epoch k.
    """

    def __init__(self, seed, sampler=None):
        self.seed, self.sampler = seed, sampler

    def on_start_epoch(self, state):
        epoch = state[torchbearer.EPOCH]
        torch.manual_seed(derive_seed(self.seed, epoch, 1))
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)
