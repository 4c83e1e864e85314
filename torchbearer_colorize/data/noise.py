"""Salt-and-pepper pairs for the report's denoising autoencoder (question 5)."""
import numpy as np
import torch
from torch.utils.data import Dataset

from .paintings import to_nchw

AMOUNT = (0.02, 0.3)  # each image's share of corrupted pixels, drawn uniformly (the report: "a random amount")
NOISE_KIND = "s&p whole pixels"  # part of the data fingerprint: runs made with per-value noise are not reused
TEST_NOISE_SEED = 0  # the test split's noise is fixed, so test losses compare between runs and seeds


class SaltPepperDataset(Dataset):
    """Items ``(noisy colour, clean colour)``, both 3 x H x W floats in [0, 1].

    The report's noise is "black and white dots": whole pixels turn white or black (skimage's
    ``random_noise(mode='s&p')`` on an RGB array flips each value on its own: coloured specks).
    Training noise is drawn afresh each epoch from ``(seed, epoch, index)`` (``set_epoch`` is called
    by the ``EpochSeed`` callback); with ``fixed=True`` (the test split) it depends on the index only.
    """

    def __init__(self, images, seed=0, fixed=False):
        self.color = to_nchw(images)
        self.seed, self.fixed, self.epoch = seed, fixed, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return len(self.color)

    def __getitem__(self, index):
        clean = self.color[index].float().div_(255)
        key = [TEST_NOISE_SEED, index] if self.fixed else [self.seed, self.epoch + 1, index]
        return salt_and_pepper(clean, np.random.default_rng(key)), clean


def salt_and_pepper(image, rng):
    """A C x H x W float tensor in [0, 1] with each pixel, with probability ``amount`` drawn from
    ``AMOUNT``, set to white or black (equal odds) in every channel at once."""
    amount = rng.uniform(*AMOUNT)
    pixels = image.shape[1:]
    flipped = rng.random(pixels) <= amount
    salted = rng.random(pixels) <= 0.5
    noisy = np.where(flipped, salted, image.numpy())  # the H x W masks broadcast over the channels
    return torch.from_numpy(noisy.astype(np.float32, copy=False))
