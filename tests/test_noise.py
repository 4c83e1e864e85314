import numpy as np
import torch

from torchbearer_colorize.data.noise import AMOUNT, SaltPepperDataset, salt_and_pepper


def images(n=4):
    return np.random.default_rng(0).integers(60, 200, (n, 32, 32, 3), dtype=np.uint8)


def corrupted_share(noisy, clean):
    return (noisy != clean).float().mean().item()


def test_noise_is_black_and_white_dots_with_an_amount_per_image():
    """The report's "black and white dots": a corrupted pixel is pure white or pure black in all three
    channels at once; both occur; the corrupted share follows the amount drawn for each image."""
    dataset = SaltPepperDataset(images(8), seed=3)
    shares = []
    for i in range(8):
        noisy, clean = dataset[i]
        assert noisy.shape == clean.shape == (3, 32, 32)
        changed = (noisy != clean).any(0)
        colors = set(map(tuple, noisy[:, changed].T.tolist()))
        assert colors == {(0.0, 0.0, 0.0), (1.0, 1.0, 1.0)}  # salt and pepper, both, nothing coloured
        assert torch.equal(noisy[:, ~changed], clean[:, ~changed])
        amount = np.random.default_rng([3, 1, i]).uniform(*AMOUNT)  # the amount this item drew
        assert abs(changed.float().mean().item() - amount) < 0.05  # 1024 pixels: the share is within ~4 sd
        shares.append(changed.float().mean().item())
    assert len(set(np.round(shares, 3))) > 4  # a different amount per image


def test_noise_replaces_pixels_never_single_channels():
    clean = torch.full((3, 64, 64), 0.5)
    noisy = salt_and_pepper(clean, np.random.default_rng(0))
    changed_channels = (noisy != clean).sum(0)
    assert set(changed_channels.unique().tolist()) == {0, 3}


def test_training_noise_changes_each_epoch_and_test_noise_is_fixed():
    train = SaltPepperDataset(images(), seed=0)
    first = train[0][0]
    assert torch.equal(first, train[0][0])  # same (seed, epoch, index): same noise
    train.set_epoch(1)
    assert not torch.equal(first, train[0][0])
    test_a, test_b = SaltPepperDataset(images(), seed=0, fixed=True), SaltPepperDataset(images(), seed=5, fixed=True)
    test_b.set_epoch(3)
    assert torch.equal(test_a[2][0], test_b[2][0])
