import csv
import json
import math
import warnings

import numpy as np
import pytest
import torch
from skimage.color import lab2rgb, rgb2lab

from experiments import color_classes
from tests.conftest import cli
from torchbearer_colorize import color_classes as cc
from torchbearer_colorize import color_space
from torchbearer_colorize.models import build_model
from torchbearer_colorize.training.store import load_model

BINS = cc.ab_bins()


def in_gamut(lab):
    """Which Lab colours (M x 3) are sRGB colours (linear RGB within [0, 1], a little tolerance)."""
    linear = color_space.lab_to_linear_rgb(torch.as_tensor(lab, dtype=torch.float64).reshape(-1, 3, 1))[..., 0]
    return ((linear >= -1e-9) & (linear <= 1 + 1e-9)).all(dim=1)


def test_lab_conversions_match_skimage():
    rgb = np.random.default_rng(0).uniform(0, 1, (2, 3, 8, 8))
    lab = color_space.rgb_to_lab(torch.tensor(rgb)).numpy()
    assert np.abs(lab - rgb2lab(rgb.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)).max() < 1e-9
    with warnings.catch_warnings():  # out-of-gamut Lab: skimage warns and clips, as ours does
        warnings.simplefilter("ignore")
        wild = np.stack(np.meshgrid(np.linspace(0, 100, 6), np.linspace(-110, 100, 8), np.linspace(-110, 100, 8),
                                    indexing="ij")).reshape(1, 3, -1, 1)
        expected = lab2rgb(wild.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    assert np.abs(color_space.lab_to_rgb(torch.tensor(wild)).numpy() - expected).max() < 1e-9


def test_bin_gamut():
    assert 250 <= len(BINS) <= 350 and len(BINS) == 261
    assert torch.equal(BINS, torch.round(BINS / 10) * 10)  # a grid of step 10
    assert len(torch.unique(BINS, dim=0)) == len(BINS)
    levels = np.linspace(0, 100, 101)
    a, b = np.meshgrid(np.arange(-130, 131, 10), np.arange(-130, 131, 10), indexing="ij")
    centres = np.stack([a.ravel(), b.ravel()], 1)
    lab = np.concatenate([np.repeat(levels[:, None], len(centres), 1)[..., None],
                          np.broadcast_to(centres, (len(levels), *centres.shape))], 2)
    centre_in = in_gamut(lab.reshape(-1, 3)).reshape(len(levels), -1).any(dim=0).numpy()
    kept = {tuple(c) for c in BINS.int().tolist()}
    # every grid point that is itself a colour (at some L) is a bin ...
    assert {tuple(c) for c in centres[centre_in]} <= kept
    # ... most bin centres are colours; the rest are edge cells that colours reach only off-centre
    centre_of_bin = np.array([tuple(c) in kept for c in centres])
    assert centre_in[centre_of_bin].mean() > 0.85
    # every bin's cell (within half a step of its centre) holds a colour at some L
    offsets = np.stack(np.meshgrid(np.linspace(-5, 5, 11), np.linspace(-5, 5, 11)), -1).reshape(-1, 2)
    cells = BINS.numpy()[:, None, None, :] + offsets[None, :, None, :]  # Q x 121 x 1 x 2
    shape = (len(BINS), len(offsets), len(levels))
    grid = np.concatenate([np.broadcast_to(levels[None, None, :, None], (*shape, 1)),
                           np.broadcast_to(cells, (*shape, 2))], axis=3)  # Q x 121 x 101 x 3
    assert in_gamut(grid.reshape(-1, 3)).reshape(len(BINS), -1).any(dim=1).all()
    # the colours of an ordinary image fall in bins
    rgb = np.random.default_rng(1).integers(0, 256, (1, 3, 16, 16), dtype=np.uint8)
    ab = cc.ab_targets(torch.from_numpy(rgb), factor=1, offset=0).float()
    cell = {tuple(c) for c in (torch.round(ab / 10) * 10).int().reshape(2, -1).T.tolist()}
    assert cell <= kept


def test_soft_encoding():
    points = torch.tensor([[0.0, 0.0], [13.0, -27.0], [47.5, 61.0], [-80.0, 5.0]])
    indices, weights = cc.soft_encode(points, BINS)
    dense = torch.zeros(len(indices), len(BINS), dtype=weights.dtype).scatter_(1, indices, weights)  # M x Q
    assert torch.allclose(dense.sum(dim=1), torch.ones(len(points)))
    assert ((dense > 0).sum(dim=1) == 5).all()
    nearest = torch.cdist(points, BINS).argmin(dim=1)
    assert torch.equal(dense.argmax(dim=1), nearest) and torch.equal(indices[:, 0], nearest)
    # a bin centre itself: the Gaussian of sigma 5 over the distances 0, 10, 10, 10, 10
    first = dense[0][dense[0] > 0].sort(descending=True).values
    expected = torch.tensor([1.0] + [math.exp(-100 / 50)] * 4)
    assert torch.allclose(first, expected / expected.sum())


def test_rebalancing_weights():
    generator = torch.Generator().manual_seed(0)
    p = torch.rand(len(BINS), generator=generator, dtype=torch.float64) ** 4
    p = cc.smooth_distribution(p / p.sum(), BINS)
    assert float(p.sum()) == pytest.approx(1.0)
    w = cc.rebalancing_weights(p)
    assert float((p * w.double()).sum()) == pytest.approx(1.0, rel=1e-6)
    order = torch.argsort(p)
    assert (w[order][1:] <= w[order][:-1]).all()  # the rarer the bin, the larger its weight
    assert w[p.argmin()] > 1 > w[p.argmax()]
    assert torch.allclose(cc.rebalancing_weights(p, lam=1.0), torch.ones(len(BINS)))
    # the empirical distribution of some targets is a distribution over the bins
    ab = cc.ab_targets(torch.randint(0, 256, (2, 3, 16, 16), dtype=torch.uint8, generator=generator))
    counts = cc.bin_distribution(ab.float(), BINS)
    assert counts.shape == (len(BINS),) and float(counts.sum()) == pytest.approx(1.0) and (counts > 0).sum() <= 32


def test_annealed_mean():
    logits = torch.randn(2, len(BINS), 3, 4, generator=torch.Generator().manual_seed(0)) * 3
    p = torch.softmax(logits, dim=1)
    plain = torch.einsum("nqhw,qc->nchw", p, BINS)
    assert torch.allclose(cc.annealed_mean(logits, BINS, temperature=1.0), plain, atol=1e-4)
    winner = torch.randint(0, len(BINS), (2, 1, 3, 4), generator=torch.Generator().manual_seed(1))
    peaked = logits.scatter_add(1, winner, torch.full(winner.shape, 40.0))  # one bin far ahead
    mode = BINS[winner[:, 0]].permute(0, 3, 1, 2)
    assert torch.allclose(cc.annealed_mean(peaked, BINS, temperature=0.02), mode, atol=1e-3)


def test_predict_rgb_shape_range_and_gray_for_zero_ab():
    torch.manual_seed(0)
    model = build_model("small_classes", n_bins=len(BINS))
    assert model(torch.rand(1, 1, 256, 256)).shape == (1, len(BINS), 64, 64)
    gray = torch.rand(2, 1, 256, 256)
    rgb = model.predict_rgb(gray)
    assert rgb.shape == (2, 3, 256, 256) and rgb.min() >= 0 and rgb.max() <= 1 and torch.isfinite(rgb).all()
    # ab = 0 everywhere decodes to the gray input copied to three channels
    back = color_space.lab_to_rgb(torch.cat([color_space.gray_lightness(gray), torch.zeros(2, 2, 256, 256)], dim=1))
    assert torch.allclose(back, gray.expand(-1, 3, -1, -1), atol=1e-4)  # float32 arithmetic
    with pytest.raises(ValueError, match="n_bins"):
        build_model("small_classes", n_bins=313)


def test_criterion_finite_and_overfits_one_batch():
    torch.manual_seed(0)
    blocks = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8)  # 16 x 16 blocks of one colour each
    color = blocks.repeat_interleave(16, dim=2).repeat_interleave(16, dim=3)  # 16 x 16 targets
    gray = color.float().mean(dim=1, keepdim=True) / 255
    targets = cc.ab_targets(color)
    assert targets.shape == (2, 2, 16, 16) and targets.dtype == torch.float16
    prior = cc.smooth_distribution(cc.bin_distribution(targets.float(), BINS), BINS)
    criterion = cc.RebalancedCrossEntropy(BINS, cc.rebalancing_weights(prior))
    model = build_model("small_classes")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        loss = criterion(model(gray), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    # the loss's floor: the weighted entropy of the soft targets (a perfect prediction)
    indices, weights = cc.soft_encode(targets.float().permute(0, 2, 3, 1).reshape(-1, 2), BINS)
    floor = float((criterion.weights[indices[:, 0]] * -(weights * weights.log()).sum(dim=1)).mean())
    assert all(math.isfinite(v) for v in losses) and floor < min(losses)
    assert losses[-1] == min(losses) and losses[-1] < 0.9 * losses[0]


def read_table(out):
    with open(out / "table.csv", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_experiment_quick_end_to_end(dirs, capsys):
    quick = ("--quick", "--limit", "4")  # 4 test images: the gray copy's MSE is the 8 images' (0.0191), below 0.02
    results = color_classes.main(cli(dirs, *quick))
    out = dirs["out"]
    table = read_table(out)
    assert [r["run"] for r in table] == [color_classes.MSE_SPEC.name, color_classes.REGRESSION_RUN,
                                         color_classes.PLAIN_RUN, color_classes.CLASSES_RUN,
                                         color_classes.GRAY_COPY, color_classes.ORACLE, color_classes.TRUTH]
    assert [r["model"] for r in table[:4]] == ["small", "small_ab", "small_classes", "small_classes"]
    assert [r["loss"] for r in table[1:4]] == [color_classes.LOSSES[k] for k in ("ab_l2", "zhang_plain",
                                                                                 "zhang_rebalanced")]
    for row in table[:6]:
        for column in ("test_mse", "test_psnr", "test_ssim", "colourfulness"):
            assert math.isfinite(float(row[column]))
    truth, gray, oracle, mse = table[6], table[4], table[5], table[0]
    assert float(truth["colourfulness"]) > 0 and truth["test_mse"] == "—"
    assert float(gray["colourfulness"]) == pytest.approx(0, abs=1e-6)  # the gray copy has no colour
    assert float(oracle["test_mse"]) < min(float(mse["test_mse"]), float(gray["test_mse"])) < 0.02
    assert table[3]["epochs"] == "1" and table[3]["batch_size"] == "4" and table[3]["n_train"] == "4"
    for name in ("comparison.png", "table.md", "classification_annealed_mean_samples.png",
                 "classification_annealed_mean_loss.png", "ab_regression_L2_samples.png",
                 "classification_not_rebalanced_loss.png"):
        assert (out / name).stat().st_size > 0
    stored = {(r["settings"]["task"], r["settings"]["loss"]): r
              for r in (json.loads(p.read_text()) for p in dirs["runs"].glob("*/result.json"))}
    assert set(stored) == {("colorize", "mse"), ("color-classes", "ab_l2"), ("color-classes", "zhang_plain"),
                           ("color-classes", "zhang_rebalanced")}
    rebalanced = stored["color-classes", "zhang_rebalanced"]
    assert rebalanced["settings"]["model_kwargs"] == {"n_bins": 261}
    assert float(table[3]["test_loss"]) == rebalanced["test_loss"]
    for model in map(load_model, dirs["runs"].glob("color-classes-*/model.pt")):
        assert model.predict_rgb(torch.rand(1, 1, 256, 256)).shape == (1, 3, 256, 256)
    # a second run reuses both stored runs and their metrics
    capsys.readouterr()
    assert float(table[3]["test_mse"]) == results[3]["metrics"]["mse"]
    assert color_classes.main(cli(dirs, *quick))[3]["metrics"] == results[3]["metrics"]
    assert capsys.readouterr().out.count("reusing the finished run") == 4
