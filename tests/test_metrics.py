import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from torchbearer_colorize.report.metrics import colourfulness, copy_input, evaluate, per_image


def test_colourfulness_by_hand():
    red = np.zeros((1, 3, 4, 4))
    red[:, 0] = 1.0  # rg = 255, yb = 127.5 everywhere: no spread, 0.3 * |mean|
    assert colourfulness(red)[0] == pytest.approx(0.3 * np.hypot(255, 127.5))
    half = np.zeros((1, 3, 2, 1))
    half[0, :, 0, 0] = (1.0, 0.0, 0.0)  # one red pixel, one black: rg 255/0, yb 127.5/0
    expected = np.hypot(127.5, 63.75) + 0.3 * np.hypot(127.5, 63.75)
    assert colourfulness(half)[0] == pytest.approx(expected)
    assert colourfulness(np.full((2, 3, 5, 5), 0.4)) == pytest.approx([0, 0])  # gray scores 0


def test_psnr_ssim_mse_by_hand():
    target = np.full((1, 3, 8, 8), 0.5)
    prediction = target + 0.1  # MSE 0.01 -> PSNR 20 dB
    scores = per_image(prediction, target)
    assert scores["mse"][0] == pytest.approx(0.01)
    assert scores["psnr"][0] == pytest.approx(20.0)
    assert per_image(target, target)["ssim"][0] == pytest.approx(1.0)
    assert per_image(target, target)["psnr"][0] == np.inf
    noisy = np.random.default_rng(0).uniform(0, 1, (1, 3, 8, 8))
    assert per_image(noisy, target)["ssim"][0] < 0.5


def test_predictions_are_clipped_and_shapes_checked():
    target = np.ones((1, 3, 8, 8))
    assert per_image(target * 2, target)["mse"][0] == 0
    with pytest.raises(ValueError, match="shape"):
        per_image(np.ones((1, 3, 8, 8)), np.ones((1, 3, 4, 4)))


def test_evaluate_averages_per_image_and_gray_copy_baseline():
    gray = torch.full((3, 1, 8, 8), 0.5)
    colour = torch.stack([torch.full((3, 8, 8), v) for v in (0.5, 0.6, 0.7)])
    means = evaluate(copy_input, TensorDataset(gray, colour), batch_size=2)
    assert means["mse"] == pytest.approx((0 + 0.01 + 0.04) / 3)
    assert means["colourfulness"] == pytest.approx(0)
    assert means["psnr"] == np.inf  # one exact copy: honest, not capped
