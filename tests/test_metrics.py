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


# ---- the Lab measures the verdicts use, on synthetic images that must go each way ----------------

def photo(size=64):
    """A colourful test picture (scikit-image's astronaut), N x 3 x H x W in [0, 1]."""
    from skimage import data, transform
    image = transform.resize(data.astronaut(), (size, size), anti_aliasing=True)
    return image.transpose(2, 0, 1)[None].astype(np.float64)


def blurred(images, sigma=1.5):
    from scipy.ndimage import gaussian_filter
    return np.stack([gaussian_filter(image, sigma=(0, sigma, sigma)) for image in images])


def checkerboard(images, amount=0.06):
    """``images`` plus a pattern that repeats every 2 pixels (a stride-2 transposed convolution's artefact)."""
    h, w = images.shape[2:]
    pattern = np.indices((h, w)).sum(axis=0) % 2 * 2.0 - 1.0
    return np.clip(images + amount * pattern, 0, 1)


def scores(images):
    return evaluate(lambda x: x, TensorDataset(torch.from_numpy(images), torch.from_numpy(images)))


def test_sharpness_half_falls_with_blur_and_ignores_a_checkerboard():
    truth = photo()
    sharp, blur, checker = scores(truth), scores(blurred(truth)), scores(checkerboard(blurred(truth)))
    assert blur["sharpness_half"] < 0.8 * sharp["sharpness_half"]  # blur lowers it
    assert blur["sharpness"] < sharp["sharpness"]
    assert checker["sharpness"] > sharp["sharpness"]  # the full-resolution gradient counts the checkerboard ...
    assert checker["sharpness_half"] == pytest.approx(blur["sharpness_half"], rel=0.05)  # ... half resolution not


def test_hue_spread_and_lab_spread_tell_one_colour_from_the_truths_colours():
    truth = np.concatenate([photo(), photo()[:, ::-1]])  # two images of different colours
    sepia = np.empty_like(truth)
    sepia[:] = np.array([0.55, 0.38, 0.25])[None, :, None, None]  # one brown everywhere...
    sepia = np.clip(sepia * truth.mean(axis=1, keepdims=True) / 0.4, 0, 1)  # ...with the truth's light and dark
    t, s = scores(truth), scores(sepia)
    assert s["hue_spread"] < 0.2 * t["hue_spread"]  # one hue everywhere, whatever its chroma
    assert s["lab_spread"] > 0.5 * t["lab_spread"]  # but not flat: the lightness varies
    assert scores(truth.copy())["hue_spread"] == pytest.approx(t["hue_spread"])  # predictions equal to the truth
    flat = np.empty_like(truth)
    flat[:] = np.array([1.0, 0.0, 0.0])[None, :, None, None]  # one flat pure red
    f = scores(flat)
    assert f["lab_spread"] == pytest.approx(0, abs=1e-5) and f["hue_spread"] == pytest.approx(0, abs=1e-3)
    # a flat orange with a strong stride-2 checkerboard (lr 0.1's seed 2 at full resolution): flat to the eye
    orange = np.empty_like(truth)
    orange[:] = np.array([1.0, 0.55, 0.0])[None, :, None, None]
    assert scores(checkerboard(orange, 0.4))["lab_spread"] < 0.1 * t["lab_spread"]
    assert 39 < np.degrees(np.arctan2(f["lab_b"], f["lab_a"])) < 41  # pure red's hue: 40 degrees
    assert np.isnan(scores(np.full_like(truth, 0.5))["hue_spread"])  # gray has no hue


def lab_images(lightness, a, b):
    """N x 3 x H x W RGB in [0, 1] from Lab channels (each N x H x W)."""
    from torchbearer_colorize.color_space import lab_to_rgb
    lab = torch.from_numpy(np.stack([lightness, a, b], axis=1).astype(np.float64))
    return lab_to_rgb(lab).clamp(0, 1).numpy()


def tone_share(predictions, truths):
    """The predictions' tone spread as a share of the truths' (the brown verdict's measure)."""
    scores = [evaluate(lambda x: x, TensorDataset(torch.from_numpy(images), torch.from_numpy(images)))
              for images in (predictions, truths)]
    return scores[0]["tone_spread"] / scores[1]["tone_spread"], scores[0]["tone_hue"]


def colourful_truths(n=12, size=16, seed=0):
    """``n`` images, each of its own hue (evenly round the circle), chroma 40, textured lightness."""
    rng = np.random.default_rng(seed)
    lightness = rng.uniform(30, 80, (n, size, size))
    hues = np.radians(np.arange(n) * 360 / n)[:, None, None]
    return lightness, 40 * np.cos(hues) * np.ones_like(lightness), 40 * np.sin(hues) * np.ones_like(lightness)


def sepia(lightness, chroma=15.0, hue=65.0):
    return lab_images(lightness, np.full_like(lightness, chroma * np.cos(np.radians(hue))),
                      np.full_like(lightness, chroma * np.sin(np.radians(hue))))


def test_tone_spread_sees_one_sepia_tone_on_colourful_truths():
    lightness, a, b = colourful_truths()
    share, hue = tone_share(sepia(lightness), lab_images(lightness, a, b))
    assert share < 0.05 and hue == pytest.approx(65, abs=1)


def test_tone_spread_of_the_truth_itself_and_of_the_truth_with_a_checkerboard_is_the_truths():
    lightness, a, b = colourful_truths()
    truth = lab_images(lightness, a, b)
    assert tone_share(truth, truth)[0] == pytest.approx(1.0)
    checker = np.indices(a.shape[1:]).sum(0) % 2 * 2 - 1  # +1/-1 alternating every pixel: red/green stripes
    share, _ = tone_share(lab_images(lightness, a + 12 * checker, b - 6 * checker), truth)
    assert share == pytest.approx(1.0, abs=0.05)


def test_tone_spread_ignores_tinted_noise_in_dark_images():
    lightness, a, b = colourful_truths()
    rng = np.random.default_rng(1)
    predictions = sepia(lightness)
    dark = np.full((4, *lightness.shape[1:]), 8.0)  # near-black images, purple-tinted noise below the floor
    tint_a, tint_b = 2.5 + rng.uniform(-1, 1, dark.shape), -2.5 + rng.uniform(-1, 1, dark.shape)
    predictions[:4] = lab_images(dark, tint_a, tint_b)
    share, _ = tone_share(predictions, lab_images(lightness, a, b))
    assert share < 0.05
    # the same tint made visible (chroma well above the floor) on a third of the images is a second tone
    predictions[:4] = lab_images(np.full_like(dark, 40.0), 6 * tint_a, 6 * tint_b)
    visible, _ = tone_share(predictions, lab_images(lightness, a, b))
    assert visible > 0.25 and visible > 5 * share


def test_colour_explained_tells_right_colours_from_one_colour_for_all():
    lightness, a, b = colourful_truths()
    truth = lab_images(lightness, a, b)

    def explained(predictions):
        pairs = TensorDataset(torch.from_numpy(truth), torch.from_numpy(truth))
        return evaluate(lambda x: torch.from_numpy(predictions), pairs)["colour_explained"]
    assert explained(truth) == pytest.approx(1.0)
    assert abs(explained(sepia(lightness, chroma=0.0))) < 0.05  # gray for all: the mean colour, nothing explained
    assert explained(lab_images(lightness, -a, -b)) < -1  # every colour turned round: worse than one for all


def test_restored_share_counts_the_corrupted_pixels_brought_back():
    from torchbearer_colorize.data.noise import salt_and_pepper
    rng = np.random.default_rng(0)
    clean = rng.uniform(0.3, 0.7, (4, 3, 16, 16)).astype(np.float32)
    noisy = np.stack([salt_and_pepper(torch.from_numpy(image), np.random.default_rng(i)).numpy()
                      for i, image in enumerate(clean)])

    def share(predictions):
        data = TensorDataset(torch.from_numpy(noisy), torch.from_numpy(clean))
        return evaluate(lambda x: torch.from_numpy(predictions), data)["restored_share"]
    assert share(clean) == 1.0 and share(noisy) == 0.0
    half = noisy.copy()
    half[:2] = clean[:2]  # the first two images cleaned, the others left as they were
    corrupted = (np.abs(noisy - clean) > 0.2).any(axis=1).sum(axis=(1, 2))
    assert share(half) == pytest.approx(corrupted[:2].sum() / corrupted.sum())
    gray = TensorDataset(torch.full((2, 1, 8, 8), 0.5), torch.full((2, 3, 8, 8), 0.5))
    assert evaluate(lambda x: x.expand(-1, 3, -1, -1), gray)["restored_share"] is None  # nothing corrupted


def test_group_means_come_from_the_same_pass_and_equal_each_group_scored_alone():
    from torch.utils.data import Subset
    rng = np.random.default_rng(2)
    data = TensorDataset(*(torch.from_numpy(rng.uniform(0, 1, (7, 3, 8, 8))) for _ in range(2)))
    groups = {"a": [0, 3, 4], "b": [1, 2, 5, 6]}
    scores = evaluate(lambda x: x, data, groups, batch_size=3)  # groups cross the batches
    for name, indices in groups.items():
        alone = evaluate(lambda x: x, Subset(data, indices))
        assert scores["groups"][name] == pytest.approx(alone, nan_ok=True)


def flat_images(colours, size=8):
    """One image per RGB colour (each channel in [0, 1]), a soft vertical ramp of lightness across it."""
    ramp = np.repeat(np.linspace(0.6, 1.0, size)[:, None], size, axis=1)[None]
    return np.stack([np.asarray(c, dtype=np.float64)[:, None, None] * ramp for c in colours])


def scores_of(predictions, targets):
    return evaluate(lambda inputs: torch.as_tensor(predictions), TensorDataset(torch.as_tensor(targets),
                                                                              torch.as_tensor(targets)))


def test_the_input_lightness_scores_judge_the_colour_alone():
    truth = flat_images([(0.8, 0.3, 0.2), (0.2, 0.4, 0.8), (0.3, 0.7, 0.3)])
    truth_scores = scores_of(truth, truth)
    darker = truth * 0.6  # the colours about right, the lightness wrong: MSE as trained suffers, on the input's L not
    scores = scores_of(darker, truth)
    assert scores["mse"] > 3 * scores["mse_input_l"]
    gray = np.repeat(truth.mean(axis=1, keepdims=True), 3, axis=1)  # the lightness about right, no colour at all
    copied = scores_of(gray, truth)
    assert copied["mse_input_l"] > 4 * scores["mse_input_l"] and copied["colourfulness_input_l"] < 1e-3
    assert copied["mse_input_l"] > 20 * truth_scores["mse_input_l"]
    swapped = scores_of(truth[::-1].copy(), truth)  # every image another's colour: worse than no colour
    assert swapped["mse_input_l"] > copied["mse_input_l"]


def test_auc_is_one_for_the_truth_and_the_rebalanced_one_punishes_one_colour_for_all():
    common, rare = (0.55, 0.35, 0.2), [(0.2, 0.4, 0.9), (0.2, 0.8, 0.2), (0.9, 0.9, 0.1)]
    truth = flat_images([common] * 9 + rare)
    perfect = scores_of(truth, truth)
    assert perfect["auc"] == pytest.approx(1.0) and perfect["auc_rebalanced"] == pytest.approx(1.0)
    one_colour = scores_of(flat_images([common] * 12), truth)  # right for 9 of 12 images, wrong for each rare one
    assert one_colour["auc"] > 0.85 and one_colour["auc_rebalanced"] < one_colour["auc"] - 0.2
    gray = scores_of(np.repeat(truth.mean(axis=1, keepdims=True), 3, axis=1), truth)
    assert 0.5 < gray["auc"] < one_colour["auc"]
    near = scores_of(np.clip(truth + 0.03, 0, 1), truth)  # every colour nearly right: both near 1
    assert min(near["auc"], near["auc_rebalanced"]) > 0.9


def test_between_images_is_zero_for_one_picture_whatever_the_input():
    truth = flat_images([(0.8, 0.3, 0.2), (0.2, 0.4, 0.8), (0.3, 0.7, 0.3), (0.9, 0.9, 0.9)])
    varied = scores_of(truth, truth)["between_images"]
    assert varied > 0.02
    same = scores_of(np.repeat(truth.mean(axis=0, keepdims=True), 4, axis=0), truth)["between_images"]
    assert same == pytest.approx(0, abs=1e-12)
    assert 0 < scores_of(0.5 + 0.1 * (truth - 0.5), truth)["between_images"] < 0.02 * varied  # a faint copy
