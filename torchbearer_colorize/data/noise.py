"""Salt-and-pepper pairs for the report's denoising autoencoder (question 5)."""
import numpy as np
import torch
from torch.utils.data import Dataset

from .paintings import to_nchw

AMOUNT = (0.02, 0.3)  # each image's share of corrupted values, drawn uniformly (the report: "a random amount")
TEST_NOISE_SEED = 0  # the test split's noise is fixed, so test losses compare between runs and seeds


class SaltPepperDataset(Dataset):
    """Items ``(noisy colour, clean colour)``, both 3 x H x W floats in [0, 1].

    The noise is ``skimage.util.random_noise(mode='s&p')``'s, value for value (same generator calls,
    tested against it), with an amount drawn per image; done here in float32 without skimage's float64
    copy and clip, it takes about half the time, and the denoiser's data loading is on its critical path.
    Training noise is drawn afresh each epoch from ``(seed, epoch, index)`` (``set_epoch`` is called
    by the ``EpochSeed`` callback); with ``fixed=True`` (the test split) it depends on the index only.
    """

    def __init__(self, images, seed=0, fixed=False):
        self.colour = to_nchw(images)
        self.seed, self.fixed, self.epoch = seed, fixed, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return len(self.colour)

    def __getitem__(self, index):
        clean = self.colour[index].float().div_(255)
        key = [TEST_NOISE_SEED, index] if self.fixed else [self.seed, self.epoch + 1, index]
        return salt_and_pepper(clean, np.random.default_rng(key)), clean


def salt_and_pepper(image, rng):
    """``random_noise(image, mode='s&p', amount=rng.uniform(*AMOUNT), rng=rng)`` for a float tensor
    in [0, 1]: each value flipped with probability ``amount``, to 1 or 0 with equal odds."""
    amount = rng.uniform(*AMOUNT)
    flipped = rng.random(image.shape) <= amount
    salted = rng.random(image.shape) <= 0.5
    return torch.from_numpy(np.where(flipped, salted, image.numpy()).astype(np.float32, copy=False))
