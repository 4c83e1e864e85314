import torch
import torchbearer
from torchbearer.callbacks import Callback

from .kl_divergence import KL, RECONSTRUCTION


class AcrossRanks(Callback):
    """Under ``DistributedDataParallel``: make each step's loss, and every logged metric, the one-process value.

    Each rank's loss is weighted by its :class:`~torchbearer_colorize.parallel.ShardedBatches` share of
    the global batch before backward, so DDP's mean of the gradients is the one-process gradient
    (``summed``: the criterion sums over examples, as the VAE's does). After backward (in evaluation: at
    once) the loss and the VAE's KL and reconstruction terms become their ``mean`` over the ranks, the global
    batch's value. ``on_rows(global size, start, stop)`` is told this rank's rows, for models that sample.
    """

    KEYS = (torchbearer.LOSS, KL, RECONSTRUCTION)

    def __init__(self, train_batches, test_batches, mean, on_rows, summed=False):
        self.train_batches, self.test_batches, self.summed = train_batches, test_batches, summed
        self.mean, self.on_rows = mean, on_rows

    def _weigh(self, state, batches):
        weight = batches.weight(state[torchbearer.BATCH], self.summed)
        for key in self.KEYS:
            if key in state:
                state[key] = state[key] * weight

    def _reduce(self, state):
        keys = [key for key in self.KEYS if key in state]
        means = self.mean(torch.stack([state[key].detach().float() for key in keys]))
        for key, value in zip(keys, means):
            state[key] = value

    def on_sample(self, state):
        batch = state[torchbearer.BATCH]
        self.on_rows(self.train_batches.global_size(batch), *self.train_batches.bounds(batch))

    def on_criterion(self, state):
        self._weigh(state, self.train_batches)

    def on_backward(self, state):
        self._reduce(state)

    def on_criterion_validation(self, state):
        self._weigh(state, self.test_batches)
        self._reduce(state)
