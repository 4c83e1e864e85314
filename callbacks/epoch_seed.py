"""Reseed every epoch from ``(seed, epoch)``, so a run resumed at epoch k draws what an uninterrupted one draws."""
import numpy as np
import torch
import torchbearer
from torchbearer.callbacks import Callback


def derive_seed(*parts):
    """A 63-bit seed from integers, e.g. ``derive_seed(seed, epoch)``."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(2, np.uint64)[0] >> np.uint64(1))


class EpochSeed(Callback):
    """At the start of every epoch, reseed torch from ``(seed, epoch)`` and tell the epoch to every object
    given that has ``set_epoch``, so a run resumed at epoch k draws what an uninterrupted one draws there."""

    def __init__(self, seed, *epoch_aware):
        self.seed = seed
        self.epoch_aware = [obj for obj in epoch_aware if hasattr(obj, "set_epoch")]

    def on_start_epoch(self, state):
        epoch = state[torchbearer.EPOCH]
        torch.manual_seed(derive_seed(self.seed, epoch, 1))
        for obj in self.epoch_aware:
            obj.set_epoch(epoch)
