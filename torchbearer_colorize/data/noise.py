"""Salt-and-pepper pairs for the report's denoising autoencoder (question 5)."""
import numpy as np
import torch
from skimage.util import random_noise
from torch.utils.data import Dataset

from .paintings import to_nchw

AMOUNT = (0.02, 0.3)  # each image's share of corrupted values, drawn uniformly (the report: "a random amount")
TEST_NOISE_SEED = 0  # the test split's noise is fixed, so test losses compare between runs and seeds


class SaltPepperDataset(Dataset):
    """Items ``(noisy colour, clean colour)``, both 3 x H x W floats in [0, 1].

    Noise comes from ``skimage.util.random_noise(mode='s&p')`` with an amount drawn per image.
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
        rng = np.random.default_rng(key)
        noisy = random_noise(clean.numpy(), mode="s&p", amount=rng.uniform(*AMOUNT), rng=rng)
        return torch.from_numpy(noisy.astype(np.float32)), clean
