import torch
import torchbearer
from torchbearer.callbacks import Callback


class AcrossRanks(Callback):
    """Under ``DistributedDataParallel``: make each step's loss, and every logged metric, the one-process value.

    Each rank's loss is weighted by its :class:`~torchbearer_colorize.distributed.ShardedBatches` share of
    the global batch before backward, so DDP's mean of the gradients is the one-process gradient
    (``summed``: the criterion sums over examples, as the VAE's does). After backward (in evaluation: at
    once) the state's ``keys`` (the loss and its terms, e.g. the VAE's KL and reconstruction) become their
    ``mean`` over the ranks, the global batch's value. ``noise``, for models that sample: ``(state key,
    draw_rows)``; every training step puts ``draw_rows(global size, start, stop)``, a ``randn_like`` for this
    rank's rows of the global batch, under that key.
    """

    def __init__(self, train_batches, test_batches, mean, keys, summed=False, noise=None):
        self.train_batches, self.test_batches, self.summed = train_batches, test_batches, summed
        self.mean, self.keys, self.noise = mean, tuple(keys), noise

    def _weigh(self, state, batches):
        weight = batches.weight(state[torchbearer.BATCH], self.summed)
        for key in self.keys:
            if key in state:
                state[key] = state[key] * weight

    def _reduce(self, state):
        keys = [key for key in self.keys if key in state]
        means = self.mean(torch.stack([state[key].detach().float() for key in keys]))
        for key, value in zip(keys, means):
            state[key] = value

    def on_sample(self, state):
        if self.noise:
            key, draw_rows = self.noise
            batch = state[torchbearer.BATCH]
            state[key] = draw_rows(self.train_batches.global_size(batch), *self.train_batches.bounds(batch))

    def on_criterion(self, state):
        self._weigh(state, self.train_batches)

    def on_backward(self, state):
        self._reduce(state)

    def on_criterion_validation(self, state):
        self._weigh(state, self.test_batches)
        self._reduce(state)
