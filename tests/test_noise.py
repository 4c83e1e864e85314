import numpy as np
import torch

from skimage.util import random_noise

from torchbearer_colorize.data.noise import AMOUNT, SaltPepperDataset


def images(n=4):
    return np.random.default_rng(0).integers(60, 200, (n, 32, 32, 3), dtype=np.uint8)


def corrupted_share(noisy, clean):
    return (noisy != clean).float().mean().item()


def test_noise_is_salt_and_pepper_with_an_amount_per_image():
    dataset = SaltPepperDataset(images(8))
    shares = []
    for i in range(8):
        noisy, clean = dataset[i]
        assert noisy.shape == clean.shape == (3, 32, 32)
        changed = noisy[noisy != clean]
        assert set(changed.unique().tolist()) <= {0.0, 1.0}  # salt or pepper, nothing else
        shares.append(corrupted_share(noisy, clean))
    assert min(shares) >= AMOUNT[0] * 0.5 and max(shares) <= AMOUNT[1] * 1.5
    assert len(set(np.round(shares, 3))) > 4  # a different amount per image


def test_training_noise_changes_each_epoch_and_test_noise_is_fixed():
    train = SaltPepperDataset(images(), seed=0)
    first = train[0][0]
    assert torch.equal(first, train[0][0])  # same (seed, epoch, index): same noise
    train.set_epoch(1)
    assert not torch.equal(first, train[0][0])
    test_a, test_b = SaltPepperDataset(images(), seed=0, fixed=True), SaltPepperDataset(images(), seed=5, fixed=True)
    test_b.set_epoch(3)
    assert torch.equal(test_a[2][0], test_b[2][0])


def test_noise_is_skimages_value_for_value():
    """The fast path draws the same numbers as skimage.util.random_noise(mode='s&p'), so stored runs
    made with skimage's function stay reproducible."""
    dataset = SaltPepperDataset(images(3), seed=7)
    dataset.set_epoch(2)
    for i in range(3):
        noisy, clean = dataset[i]
        rng = np.random.default_rng([7, 3, i])
        expected = random_noise(clean.numpy(), mode="s&p", amount=rng.uniform(*AMOUNT), rng=rng)
        assert torch.equal(noisy, torch.from_numpy(expected.astype(np.float32)))
