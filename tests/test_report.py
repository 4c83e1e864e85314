import re
from pathlib import Path

import numpy as np
import pytest

from experiments import report as report_command
from torchbearer_colorize.report.reported import REPORTED
from torchbearer_colorize.report.page import readme_block, render_checks, render_report, sync_readme
from torchbearer_colorize.report.summary import NOT_PRETRAINED, Stat, collect, percent, relation
from torchbearer_colorize.report.verdicts import colour_finding, readings, shapes, tone_name, verdicts

# ---- the verdict rules, on made-up results (no training) -----------------------------------------


def fake(run, test_loss, seed=0, data="built-in paintings", **settings):
    return {"run": run, "test_loss": test_loss, "train_loss": test_loss * 1.1, "status": "finished",
            "settings": {"model": "small", "optimizer": "adam", "lr": 1e-3, "epochs": 5, "batch_size": 32,
                         "seed": seed, "run": run, **settings},
            "data": data, "n_train": 10, "n_test": 5, "seconds": 60.0, "device": "cpu", "peak_rss_mb": 500.0,
            "versions": {"torch": "x"}, "finished_at": "2026-01-01T00:00:00+00:00"}


def sweep(losses, seed=0):
    return [fake(f"lr {lr:g}", loss, seed) for lr, loss in zip((1e-4, 1e-3, 1e-2, 1e-1), losses)]


def by_claim(summary):
    """{claim: verdict}, the one-seed mark left off (``test_one_seed_is_said_in_every_verdict`` checks it)."""
    return {v.claim: v.verdict.removesuffix(" (one seed)") for v in verdicts(summary)}


def test_relation_uses_one_std_only_with_several_seeds():
    assert relation(Stat([1.0]), Stat([1.01])) == "below"  # one seed: means decide
    assert relation(Stat([1.0, 1.02]), Stat([1.01, 1.03])) == "within noise"
    assert relation(Stat([1.0, 1.001]), Stat([2.0, 2.001])) == "below"
    assert str(Stat([0.01, 0.02])) == "0.015 ± 0.0071" and str(Stat([0.01])) == "0.01"


def test_sweep_verdicts_follow_the_numbers():
    agrees = collect({"lr_sweep": {0: sweep([0.02, 0.01, 0.03, 0.2])}})
    assert by_claim(agrees)["lr 1e-3 has the lowest test loss of the sweep"] == "agrees"
    assert by_claim(agrees)["lr 1e-1 is the worst of the sweep"] == "agrees"
    disagrees = collect({"lr_sweep": {0: sweep([0.02, 0.01, 0.005, 0.2])}})
    assert by_claim(disagrees)["lr 1e-3 has the lowest test loss of the sweep"] == "disagrees: lr 0.01 is the lowest"
    noisy = collect({"lr_sweep": {0: sweep([0.02, 0.0100, 0.0101, 0.2]), 1: sweep([0.02, 0.0102, 0.0099, 0.2], 1)}})
    assert by_claim(noisy)["lr 1e-3 has the lowest test loss of the sweep"] == "within noise"


def test_other_verdicts():
    results = {
        "lr_sweep": {0: sweep([0.02, 0.01, 0.03, 0.2])},
        "deep": {0: [fake("deep", 0.009)]},  # below the small net: the report said above
        "inception": {0: [fake("inception", 0.05, data="x; encoder NOT pretrained (random frozen weights)")]},
        "vae_fruits": {0: [fake("beta-VAE", 250000.0)]},  # more than 10x the report's
    }
    found = by_claim(collect(results))
    assert found["the deep net's test loss is above the small net's"] == "disagrees"
    assert found["the frozen-inception net's test loss is above the small net's"].startswith("not comparable")
    assert found[VAE_SCALE] == "disagrees"
    assert found["Adam beats SGD and Adadelta at 5 epochs (lr 1e-3)"] == "not run"
    assert found[UNET_CLAIM] == "not run"  # no U-net and no image measures


UNET_CLAIM = ("the U-net's pictures are clearer and sharper than the small net's "
              "(the skips carry the detail the bottleneck loses)")
DEEP_CLAIM = "the deep net's pictures are blurrier than the small net's (its latent is very small)"
BROWN_CLAIM = "MSE paints everything brown: one brownish colour everywhere, whatever the truth's colour"
CLASSES_CLAIM = "colour classification gives brighter, more saturated colour than MSE"
FLAT_CLAIM = "lr 1e-1 learns nothing: one brown/black colour everywhere"
SLOW_CLAIM = "lr 1e-4 learns slowly and needs more epochs"
SGD_CLAIM = "SGD would learn with more epochs (its curve still falls)"
BARELY_CLAIM = "SGD and Adadelta barely learn in 5 epochs"
DENOISE_CLAIM = "the denoiser is fairly good but not sharp"
VAE_SCALE = ("scale check, not a finding (the loss reduction was chosen to match the report's scale): the beta-VAE's "
             "test loss is within a factor of 10 of the report's")
VAE_CLAIM = "the beta-VAE reconstructs the fruits acceptably"
# the truth's measures; its mean hue (40 degrees) lies in the brown window, like the built-in photos'
TRUTH = {"mse": 0.0, "psnr": float("inf"), "ssim": 1.0, "colourfulness": 40.0, "chroma": 30.0, "lab_l": 50.0,
         "lab_a": 12.0, "lab_b": 10.0, "sharpness": 10.0, "sharpness_half": 8.0, "hue_spread": 40.0,
         "lab_spread": 35.0, "tone_spread": 60.0, "tone_hue": 45.0}


def with_images(result, **scores):
    """``result`` with measured test predictions (``metrics``) and the truth's (``references``)."""
    base = {"mse": result["test_loss"], "psnr": 20.0, "ssim": 0.6, "colourfulness": 30.0, "chroma": 15.0,
            "lab_l": 48.0, "lab_a": 10.0, "lab_b": 9.0, "sharpness": 6.0, "sharpness_half": 6.0, "hue_spread": 30.0,
            "lab_spread": 25.0, "tone_spread": 40.0, "tone_hue": 50.0}
    return {**result, "metrics": {**base, **scores},
            "references": {"baseline_label": "gray copy (baseline)", "truth": TRUTH,
                           "baseline": dict(TRUTH, mse=0.02, psnr=15.0)}}


def image_verdicts(small=None, unet=None, deep=None, seeds=(0,)):
    results = {"lr_sweep": {}, "unet": {}, "deep": {}}
    for seed in seeds:
        results["lr_sweep"][seed] = [with_images(r, **(small or {})) for r in sweep([0.02, 0.01, 0.03, 0.2], seed)]
        results["unet"][seed] = [with_images(fake("unet", 0.009, seed), **(unet or {}))]
        results["deep"][seed] = [with_images(fake("deep", 0.015, seed), **(deep or {}))]
    return by_claim(collect(results))


def test_image_claims_are_measured_on_the_predictions_not_the_loss():
    found = image_verdicts(unet={"ssim": 0.7, "sharpness_half": 7.0}, deep={"sharpness_half": 4.0})
    assert found[UNET_CLAIM] == "agrees" and found[DEEP_CLAIM] == "agrees"
    found = image_verdicts(unet={"ssim": 0.7, "sharpness_half": 5.0}, deep={"sharpness_half": 7.0})
    assert found[UNET_CLAIM] == "disagrees" and found[DEEP_CLAIM] == "disagrees"  # blurrier U-net, sharper deep


def test_sharpness_is_the_half_resolution_one_not_the_checkerboard_counting_one():
    """A deep net whose checkerboard doubles its full-resolution gradient but which is blurrier at half
    resolution is blurrier: the verdict reads ``sharpness_half`` only."""
    found = image_verdicts(deep={"sharpness": 20.0, "sharpness_half": 3.0})
    assert found[DEEP_CLAIM] == "agrees"


def test_brown_cast_is_one_brownish_tone_for_each_seed():
    # every image in one tone (spread a quarter of the truth's), mean tone 42 degrees: brown everywhere
    assert image_verdicts(small={"tone_spread": 15.0, "tone_hue": 42.0})[BROWN_CLAIM] == "agrees"
    # predictions with the truth's own variety of tones: the same mean hue, but not one tone
    assert image_verdicts(small={"tone_spread": 57.0})[BROWN_CLAIM] == "disagrees"
    # one tone everywhere, but blue-green (246 degrees)
    assert image_verdicts(small={"tone_spread": 5.0, "tone_hue": 246.0 - 360})[BROWN_CLAIM] == \
        "partly: one tone for every image, but at -114 degrees, outside the brown window"
    assert image_verdicts(small=TRUTH)[BROWN_CLAIM] == "disagrees"  # predictions equal to the truth
    assert image_verdicts(small={"tone_spread": float("nan")})[BROWN_CLAIM] == "disagrees"  # gray


def test_brown_cast_is_judged_seed_by_seed():
    def seeds(*spreads):
        results = {"lr_sweep": {seed: [with_images(r, tone_spread=spread, tone_hue=42.0)
                                       for r in sweep([0.02, 0.01, 0.03, 0.2], seed)]
                                for seed, spread in enumerate(spreads)}}
        return next(v for v in verdicts(collect(results)) if v.claim == BROWN_CLAIM)
    assert seeds(10.0, 12.0, 20.0).verdict == "agrees"
    found = seeds(10.0, 42.0, 20.0)  # seed 1 as varied as the truth: the others' agreement does not hide it
    assert found.verdict == "partly: in 2 of 3 seeds"
    assert ("seed 1: tone spread 70% of the truth's, mean tone 42 degrees (not one tone, red, in the brown window)"
            in found.ours)
    assert "lr 0.0001: seed 0: tone spread 17% of the truth's, mean tone 42 degrees (one tone" in found.ours


def test_the_brown_rule_names_whichever_colorizer_it_finds_brown():
    # the small net's one tone at 106 degrees (outside the window), the rebalanced classification's at 89 (inside)
    results = {"lr_sweep": {0: [with_images(r, tone_spread=3.0, tone_hue=106.0)
                                for r in sweep([0.02, 0.01, 0.03, 0.2])]},
               "color_classes": {0: [with_images(fake("classification (annealed mean)", 2.0, task="color-classes"),
                                                 tone_spread=10.0, tone_hue=89.0)]}}
    assert by_claim(collect(results))[BROWN_CLAIM] == (
        "partly: one tone for every image, but at 106 degrees, outside the brown window; by the same rule, "
        "classification (annealed mean) (89 degrees, tone spread 17% of the truth's) does paint everything one "
        "brownish tone")
    two = dict(results, color_classes={0: results["color_classes"][0], 1: [with_images(fake(
        "classification (annealed mean)", 2.0, 1, task="color-classes"), tone_spread=10.0, tone_hue=91.0)]})
    assert by_claim(collect(two))[BROWN_CLAIM].endswith(  # seed 1 just outside the window: said, not hidden
        "classification (annealed mean) (89/91 degrees, tone spread 17%/17% of the truth's, in 1 of its 2 seeds) "
        "does paint everything one brownish tone")
    results["color_classes"][0][0]["metrics"]["tone_hue"] = 95.0  # just outside: none named
    assert by_claim(collect(results))[BROWN_CLAIM].endswith("outside the brown window")


def flat(**scores):
    return image_verdicts(small=scores)[FLAT_CLAIM]


def test_one_flat_colour_is_measured_and_named():
    red = {"lab_spread": 0.5, "lab_l": 53.2, "lab_a": 80.1, "lab_b": 67.2}  # pure red everywhere
    assert flat(**red) == ("partly: one flat colour in each seed, as the report says, but not brown/black: seed 0: "
                           "flat red")
    assert flat(lab_spread=0.5, lab_l=2.0, lab_a=0.5, lab_b=0.5) == "agrees"  # black everywhere
    assert flat(lab_spread=1.0, lab_l=44.0, lab_a=22.0, lab_b=39.0) == "agrees"  # brown everywhere
    assert flat(**dict(red, lab_spread=20.0)) == "disagrees: not one flat colour (Lab spread 57% of the truth's)"
    # red and yellow pixels in a stride-2 checkerboard: orange only once averaged, and said so
    board = {"lab_spread": 0.0, "lab_l": 75.2, "lab_a": 29.3, "lab_b": 80.8, "sharpness": 62.0, "sharpness_half": 0.0}
    assert flat(**board) == ("partly: one flat colour in each seed, as the report says, but not brown/black: seed 0: a "
                             "stride-2 checkerboard of two colours that average to orange (sharpness 62 at full "
                             "resolution, 0.0 at half)")
    assert "checkerboard" not in flat(**dict(board, sharpness=6.0, sharpness_half=6.0))  # a flat colour's texture


def curve(*losses):
    return [{"epoch": i + 1, "test_loss": x} for i, x in enumerate(losses)]


def test_still_falling_is_a_fitted_fall_over_the_last_quarter_against_the_noise():
    runs = sweep([0.02, 0.01, 0.03, 0.2])
    runs[1]["history"] = curve(0.05, 0.03, 0.02, 0.015, 0.012, 0.011, 0.0105, 0.0102, 0.0101, 0.01, 0.01, 0.01)
    # lr 1e-4: flat near its start for 4 epochs, then falling steadily to the end: slow, and still falling
    slow = [0.05, 0.0499, 0.0501, 0.0498, 0.045, 0.04, 0.036, 0.033, 0.03, 0.028, 0.026, 0.024]
    runs[0]["history"] = curve(*slow)
    sgd = fake("SGD", 0.1, optimizer="sgd")
    sgd["history"] = curve(*(0.1 * 0.9 ** i for i in range(12)))  # -10 % an epoch: reaches Adam's 0.01 soon
    found = by_claim(collect({"lr_sweep": {0: runs}, "optimizers": {0: [sgd]}}))
    assert found[SLOW_CLAIM] == "agrees" and found[SGD_CLAIM] == "agrees"
    # flat and noisy over the last quarter: no longer falling; SGD falling by 0.005 % an epoch: partly
    runs[0]["history"] = curve(*slow[:9], 0.0241, 0.0245, 0.0239)
    sgd["history"] = curve(*(0.055 * 0.99995 ** i for i in range(12)))
    found = by_claim(collect({"lr_sweep": {0: runs}, "optimizers": {0: [sgd]}}))
    assert found[SLOW_CLAIM] == "partly: slowly: yes; still falling in no seed of 1"
    assert "fitted fall 0.83%, noise 1.7%" in next(v.ours for v in verdicts(collect({"lr_sweep": {0: runs}}))
                                                   if v.claim == SLOW_CLAIM)
    assert found[SGD_CLAIM].startswith("partly: it still falls, by 0.005% an epoch: at that rate about ")
    assert int(found[SGD_CLAIM].split("about ")[1].split(" ")[0].replace(",", "")) > 10_000
    sgd["history"] = curve(0.1, 0.09, 0.1, 0.09, 0.1)  # up and down: not falling
    assert by_claim(collect({"lr_sweep": {0: runs}, "optimizers": {0: [sgd]}}))[SGD_CLAIM].startswith("disagrees")
    # lr 1e-4 falling from its first epoch on, as early as lr 1e-3, and below it at the end: not slow
    fast = sweep([0.005, 0.01, 0.03, 0.2])
    fast[1]["history"] = runs[1]["history"]
    fast[0]["history"] = curve(0.05, 0.03, 0.02, 0.012, 0.009, 0.008, 0.007, 0.0065, 0.006, 0.0057, 0.0053, 0.005)
    assert by_claim(collect({"lr_sweep": {0: fast}}))[SLOW_CLAIM] == "partly: slowly: no; still falling in seed 0 of 1"


def test_the_figures_are_read_in_numbers_each_way():
    def inception(between, rise, sharpness=1.0):
        run = with_images(fake("inception", 0.03), between_images=between, sharpness_half=sharpness)
        run["references"]["truth"] = dict(TRUTH, between_images=0.05)
        run["history"] = [{"epoch": 1, "test_loss": 0.05, "train_loss": 0.06},
                          {"epoch": 2, "test_loss": 0.03, "train_loss": 0.04},
                          {"epoch": 3, "test_loss": 0.03 * (1 + rise), "train_loss": 0.03}]
        return next(s.text for s in readings(collect({"inception": {0: [run]}})))
    assert "are blurs (half-resolution sharpness 12% of the truth's)" in inception(0.001, 0.1)
    assert "they change with the input (under 10%" in inception(0.03, 0.0, sharpness=6.0)  # sharp ones
    assert "of the truth's variance: near-identical whatever the input" in inception(0.001, 0.1)
    assert ("is lowest at epoch 2, then rises by 10% to the end while its train loss falls by 25%"
            in inception(0.001, 0.1))
    text = inception(0.03, 0.0)
    assert "they change with the input, in overall lightness and coarse layout at most" in text and "rises" not in text

    def vae(mu_mean, mu_sd):
        run = with_images(fake("beta-VAE", 20000.0), between_images=0.01)
        run["readings"] = {"encoder_sd": 0.02, "mu_mean": mu_mean, "mu_sd": mu_sd,
                           "traversal_lab": [[[40.0, 30.0, 35.0], [65.0, 3.0, 4.0]],  # red-brown -> pale gray
                                             [[50.0, 5.0, 40.0], [30.0, -5.0, -30.0]],  # yellow -> dark blue
                                             [[50.0, 10.0, 10.0], [52.0, 11.0, 9.0]]]}
        return next(s.text for s in readings(collect({"vae_fruits": {0: [run]}})))
    text = vae([0.3, -0.1], [0.6, 0.7])
    assert "noise q(z|x) adds is 32 x smaller" in text and "are not N(0, 1)" in text
    assert "z[0] lighter (L* 40 -> 65), greyer (chroma 46 -> 5)" in text
    assert "z[1] darker (L* 50 -> 30), greyer (chroma 40 -> 30), orange -> blue (83 -> -99 degrees)" in text
    assert [tone_name(h) for h in (40, 75, 106, 140, -60, -3)] == ["red", "orange", "yellow", "green", "blue", "pink"]
    assert "z[2] little (mean colour within 5 Lab units)" in text
    assert "are N(0, 1)" in vae([0.1, -0.1], [0.9, 1.1])


def test_the_denoiser_reading_says_the_noise_and_which_way_the_colours_move():
    def text(off):
        run = with_images(fake("denoise", 0.008), between_images=0.01, restored_share=0.57, colour_err_sq=off ** 2)
        run["references"]["baseline"] = dict(TRUTH, corrupted=0.155 * 256 * 256, colour_err_sq=4.0)
        return next(s.text for s in readings(collect({"denoise": {0: [run]}})))
    assert "drawn from U(2%, 30%); 15.5% of the test pixels" in text(5.0)
    assert "57% of the dotted pixels come back within 0.1" in text(5.0)
    assert text(5.0).endswith("shifts the colours further than the dots do.")
    assert text(1.0).endswith("brings the colours closer than the dots left them.")


def test_denoiser_fairly_good_but_not_sharp():
    def verdict(**scores):
        run = with_images(fake("denoise", 0.003), **scores)
        run["references"]["baseline_label"] = "noisy input (baseline)"
        return by_claim(collect({"denoise": {0: [run]}}))[DENOISE_CLAIM]
    assert verdict(psnr=26.0, sharpness_half=5.0) == "agrees"  # +11 dB over the noisy input, 62 % of the sharpness
    assert verdict(psnr=16.0, sharpness_half=5.0) == "disagrees"  # +1 dB: not fairly good
    assert verdict(psnr=26.0, sharpness_half=7.9) == "disagrees"  # as sharp as the truth


def test_vae_scale_check_and_acceptable_reconstructions():
    def found(test_loss, mse):
        run = fake("beta-VAE", test_loss)
        run.update(metrics={**TRUTH, "mse": mse, "ssim": 0.8},
                   references={"baseline_label": "training-set mean image (baseline)",
                               "baseline": dict(TRUTH, mse=0.06, ssim=0.4), "truth": TRUTH})
        return by_claim(collect({"vae_fruits": {0: [run]}}))
    assert found(20000.0, 0.01)[VAE_CLAIM] == "agrees"  # 83 % of the variance around the mean image explained
    assert found(20000.0, 0.04)[VAE_CLAIM] == "disagrees"  # 33 %
    assert found(20000.0, 0.01)[VAE_SCALE] == "agrees" and found(250000.0, 0.01)[VAE_SCALE] == "disagrees"


def test_vae_reconstructions_are_judged_on_pixels_and_on_colour():
    def found(colour):
        run = fake("beta-VAE", 20000.0)
        run.update(metrics={**TRUTH, "mse": 0.01, "ssim": 0.8, "colour_explained": colour},
                   references={"baseline_label": "training-set mean image (baseline)",
                               "baseline": dict(TRUTH, mse=0.06, ssim=0.4), "truth": TRUTH})
        return by_claim(collect({"vae_fruits": {0: [run]}}))[VAE_CLAIM]
    assert found(0.8) == "agrees"
    assert found(0.1) == "partly: the pixels (shape, position) yes, each fruit's colour no"


def ablation(regression_chroma=12.0, classes_chroma=20.0, seed=0):
    """The colour-classification table's runs, as the experiment returns them (the MSE net, then the ablation)."""
    scores = {"auc": 0.86, "auc_rebalanced": 0.7, "mse_input_l": 0.011}
    return [with_images(fake("MSE regression (small, lr 0.001)", 0.01, seed, task="colorize"), chroma=11.0, **scores),
            with_images(fake("ab regression (L2)", 250.0, seed, task="color-classes"), chroma=regression_chroma,
                        **scores),
            with_images(fake("classification, not rebalanced", 2.0, seed, task="color-classes"), chroma=14.0,
                        **scores),
            with_images(fake("classification (annealed mean)", 2.0, seed, task="color-classes"), chroma=classes_chroma,
                        **dict(scores, auc_rebalanced=0.75))]


def test_classification_saturation_is_judged_like_with_like_against_the_ab_regression():
    assert by_claim(collect({"color_classes": {0: ablation()}}))[CLASSES_CLAIM] == \
        "agrees on saturation; brightness: the same lightness by construction"
    # above the RGB net's chroma (11) but below the a*b* regression's: the like-with-like comparison decides
    assert by_claim(collect({"color_classes": {0: ablation(classes_chroma=11.5)}}))[CLASSES_CLAIM] == \
        "disagrees on saturation; brightness: the same lightness by construction"
    noisy = collect({"color_classes": {0: ablation(12.0, 12.5), 1: ablation(13.0, 12.5, 1)}})
    assert by_claim(noisy)[CLASSES_CLAIM].startswith("within noise on saturation")
    found = next(v for v in verdicts(collect({"color_classes": {0: ablation()}})) if v.claim == CLASSES_CLAIM)
    assert "both on the input's lightness" in found.measure and "rebalanced 0.75" in found.ours
    shape = next(s.text for s in shapes(collect({"color_classes": {0: ablation()}})) if "ablation" in s.text)
    assert "chroma 12 / 14 / 20 (higher than the regression's, higher than unrebalanced" in shape


def test_the_colour_finding_counts_the_colorizers_as_trained_and_on_the_input_lightness():
    def colorizer(run, mse, mse_input_l, seed=0):
        return with_images(fake(run, mse, seed, task="colorize"), mse=mse, mse_input_l=mse_input_l, auc=0.86,
                           auc_rebalanced=0.69)

    def summary(unet_input_l):
        results = {"lr_sweep": {0: [colorizer("lr 0.001", 0.0177, 0.0106)]},
                   "unet": {0: [colorizer("unet", 0.014, unet_input_l)]}}
        for runs in results.values():
            for run in runs[0]:
                run["references"]["baseline"] = dict(TRUTH, mse=0.0132, mse_input_l=0.0132, psnr=15.0)
        return collect(results)
    line = colour_finding(summary(0.0107))
    assert line.startswith("As trained, 0 of the 2 colorizers (lr 0.001, unet) beat the gray copy's per-image test "
                           "MSE (0.0132; the best, unet: 0.014)")
    assert "on the input's lightness, 2 of 2 beat it (-20% to -19% against it)" in line
    assert "on the input's lightness, 1 of 2 beat it" in colour_finding(summary(0.02))


def test_the_reports_own_numbers_pass_every_rule_on_losses():
    """A rule that fails its own source is wrong: fed the report's printed test losses, every verdict
    that rests on losses agrees (the rules on pictures and curves have no numbers from the report)."""
    results = {}
    for experiment, runs in REPORTED.items():
        rows = [fake(run, numbers.test_loss) for run, numbers in runs.items() if numbers.test_loss is not None]
        if rows:
            results[experiment] = {0: rows}
    found = verdicts(collect(results))
    on_losses = [v for v in found if v.verdict != "not run"]
    assert len(on_losses) >= 6
    assert {v.claim: v.verdict for v in on_losses if not v.verdict.startswith("agrees")} == {}
    assert {v.claim for v in found if v.verdict == "not run"} == {
        UNET_CLAIM, DEEP_CLAIM, BROWN_CLAIM, CLASSES_CLAIM, FLAT_CLAIM, SLOW_CLAIM, SGD_CLAIM, DENOISE_CLAIM,
        VAE_CLAIM, BARELY_CLAIM}


def test_one_seed_is_said_in_every_verdict_and_no_std_is_claimed():
    found = verdicts(collect({"lr_sweep": {0: sweep([0.02, 0.01, 0.03, 0.2])}}))
    ran = [v for v in found if v.verdict != "not run"]
    assert ran and all(v.verdict.endswith("(one seed)") for v in ran)
    assert all("beyond one std" not in v.measure for v in ran)
    two = verdicts(collect({"lr_sweep": {0: sweep([0.02, 0.01, 0.03, 0.2]), 1: sweep([0.02, 0.01, 0.03, 0.2], 1)}}))
    assert not any("one seed" in v.verdict for v in two)


def test_instability_is_said_beside_the_verdict():
    blown = sweep([0.02, 0.01, 0.03, 0.2])
    blown[2]["history"] = [{"epoch": 1, "test_loss": 0.02}, {"epoch": 2, "test_loss": 0.009},
                           {"epoch": 3, "test_loss": 0.5}, {"epoch": 4, "test_loss": 0.03}]
    steady = sweep([0.02, 0.01, 0.03, 0.2], 1)
    found = by_claim(collect({"lr_sweep": {0: blown, 1: steady}}))
    assert found["lr 1e-3 has the lowest test loss of the sweep"].endswith("; unstable: lr 0.01 in 1/2 seeds")


def test_render_report_means_and_stds(tmp_path):
    summary = collect({"lr_sweep": {0: sweep([0.02, 0.01, 0.03, 0.2]), 1: sweep([0.022, 0.012, 0.03, 0.2], 1)}})
    text = render_report(summary, out=tmp_path, command="python -m experiments.report", seeds=(0, 1), notes=())
    assert "| lr 0.001 | 0.0028 | 0.011 ± 0.0014 |" in text  # the report's number beside ours
    assert "Not run in this invocation" in text  # the experiments --only left out
    assert "mean ± sample std over the seeds" in text
    assert "[lr_sweep](lr_sweep/table_seeds.md)" in text and "(lr_sweep/table.md)" not in text  # over the seeds
    assert text.startswith("# The report, regenerated\n\nGenerated on ")  # the one line a rerun changes


def full_summary(seeds=(0,), machine=None):
    """Every experiment, made up, with image measures: what a whole report run collects."""
    results = {}
    for seed in seeds:
        def run(name, loss, **settings):
            result = with_images(fake(name, loss, seed, **settings))
            result["history"] = curve(loss * 1.5, loss * 1.1, loss)
            result["threads"] = 2
            del result["settings"]["run"]  # a run's identity is its settings: Adam is the lr 0.001 run
            if machine:
                result["machine"] = machine
            return result
        results.setdefault("lr_sweep", {})[seed] = [run(f"lr {lr:g}", x, lr=lr) for lr, x in
                                                     zip((1e-4, 1e-3, 1e-2, 1e-1), (0.02, 0.01, 0.03, 0.2))]
        results.setdefault("optimizers", {})[seed] = [run("SGD", 0.1, optimizer="sgd"),
                                                       run("Adadelta", 0.11, optimizer="adadelta"),
                                                       run("Adam", 0.01, lr=1e-3)]
        for name, loss in (("deep", 0.015), ("unet", 0.009), ("denoise", 0.003)):
            results.setdefault(name, {})[seed] = [run(name, loss, model=name)]
        inception = run("inception", 0.05, model="inception_decoder")
        inception["data"] = "x; encoder NOT pretrained (random frozen weights)"
        results.setdefault("inception", {})[seed] = [inception]
        results.setdefault("vae_fruits", {})[seed] = [run("beta-VAE", 20000.0, model="vae")]
    seed = seeds[0]  # run() reads it: colour classification trains at the first seed only
    results["color_classes"] = {seeds[0]: [run("MSE regression (small, lr 0.001)", 0.01, lr=1e-3),
                                           run("classification (annealed mean)", 2.0, model="small_classes")]}
    return collect(results)


def test_the_page_is_short_links_its_tables_and_does_not_copy_the_fidelity_table(tmp_path):
    from torchbearer_colorize.report.fidelity import NOTES
    summary = full_summary()
    text = render_report(summary, out=tmp_path, command="python -m experiments.report", seeds=(0,), notes=NOTES)
    assert len(text) <= 25_000  # every verdict with its deciding numbers, and each figure read in numbers, len(text)
    for experiment in report_command.NAMES:
        assert f"({experiment}/table.md)" in text
    assert "(checks.md)" in text and "(../docs/fidelity.md)" in text
    assert "| topic | the report says |" not in text  # linked, not copied
    assert text.index("## What we found") < text.index("## Headline")
    for line in text.splitlines():  # wherever inception's number appears, the line says it was not pretrained
        if "inception" in line.lower() and "0.05" in line:
            assert "NOT pretrained" in line, line
    assert "8 of the 11 distinct models" not in text  # Adam and the MSE row are lr 0.001: counted once
    assert "distinct models beat their baseline" in text
    checks = render_checks(summary)
    assert checks.count("| lr_sweep: lr 0.001 vs") == 1 and "optimizers: Adam vs" not in checks


def test_each_seed_says_which_machine_and_versions_trained_it():
    text = render_report(full_summary(), out=Path("/nonexistent"), command="c", seeds=(0,), notes=())
    assert "seed 0 trained on cpu, 2 threads; torch x" in text  # no machine record: device and threads
    machine = {"cpu": "AMD EPYC", "cores": 2, "platform": "Linux-6"}
    text = render_report(full_summary((0, 1), machine), out=Path("/nonexistent"), command="c", seeds=(0, 1),
                         notes=())
    assert "seeds 0, 1 trained on AMD EPYC, 2 cores, Linux-6; torch x" in text
    one_seed = [line for line in text.splitlines() if re.search(r"\(seed \d only\) \|", line)]  # color_classes
    assert len(one_seed) == 2 and all(line.startswith("| [color_classes](color_classes/table.md)") for line in one_seed)


def test_the_machines_line_counts_each_stored_run_once_and_its_settings_over_the_seeds():
    """12 settings (Adam and the classification's MSE row are the sweep's lr 0.001 run); colour classification
    trains at the first seed only: two seeds store 11 x 2 + 1 runs."""
    text = render_report(full_summary(), out=Path("/nonexistent"), command="c", seeds=(0,), notes=())
    assert ". 12 stored runs, " in text and "settings" not in text.split("**Machines**", 1)[1].split("\n", 1)[0]
    text = render_report(full_summary((0, 1)), out=Path("/nonexistent"), command="c", seeds=(0, 1), notes=())
    assert ". 23 stored runs of 12 settings (one run per setting and seed), " in text


def test_bf16_runs_are_said_in_the_report_and_checks_and_fp32_ones_stay_as_they_were():
    fp32 = collect({"lr_sweep": {0: sweep([0.02, 0.01, 0.03, 0.2])}})
    runs = sweep([0.02, 0.01, 0.03, 0.2])
    for run in runs:
        run["settings"]["autocast"] = "bf16"
    bf16 = collect({"lr_sweep": {0: runs}})
    for summary, said in ((fp32, False), (bf16, True)):
        text = render_report(summary, out=Path("/nonexistent"), command="c", seeds=(0,), notes=())
        ran = next(line for line in text.splitlines() if "Ran: " in line)
        assert ran.split("Ran: ")[1].startswith("Adam, lr 0.001, 5 epochs, batch 32" +
                                                (", bf16;" if said else ";")), ran
        assert ("**bf16**: 4 of the 4 runs trained with `--bf16`" in text) is said
        assert ("| cpu bf16 |" in render_checks(summary)) is said and ("bf16" in text) is said


def test_the_report_passes_bf16_to_each_experiment_and_refuses_it_without_native_bf16(tmp_path, monkeypatch, capsys):
    from torchbearer_colorize.training import prepare
    argv = ["--bf16", "--device", "cpu", "--out", str(tmp_path / "out"), "--runs-dir", str(tmp_path / "runs")]
    monkeypatch.setattr(prepare, "native_bf16", lambda: False)
    with pytest.raises(SystemExit) as exit_:
        report_command.arguments(argv)
    [line] = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and "--bf16 needs a GPU or a CPU with native bf16" in line
    assert list(tmp_path.iterdir()) == []  # nothing written
    monkeypatch.setattr(prepare, "native_bf16", lambda: True)
    args = report_command.arguments(argv)
    assert "--bf16" in report_command.experiment_argv("lr_sweep", "paintings", args, 0, tmp_path, False)
    assert "--bf16" not in report_command.experiment_argv("lr_sweep", "paintings", report_command.arguments(argv[1:]),
                                                          0, tmp_path, False)


def test_the_best_colour_alone_is_the_lowest_mse_on_the_input_lightness_ties_broken_by_the_auc():
    from torchbearer_colorize.report.verdicts import best_colorizer

    def colorizer(experiment, name, mse_input_l, auc, seed):
        return with_images(fake(name, 0.01, seed, task="colorize"), mse_input_l=mse_input_l, auc=auc)

    def best(a, b):  # (mse_input_l per seed, auc) of two colorizers over two seeds
        return best_colorizer(collect({"deep": {s: [colorizer("deep", "deep", a[0][s], a[1], s)] for s in (0, 1)},
                                       "unet": {s: [colorizer("unet", "unet", b[0][s], b[1], s)] for s in (0, 1)}}))
    run, line = best(((0.0103, 0.0104), 0.86), ((0.0110, 0.0111), 0.87))
    assert run.run == "deep" and line.endswith("0.01035 ± 7.1e-05, the lowest).")  # lower MSE beyond noise
    run, line = best(((0.0103, 0.0105), 0.86), ((0.0104, 0.0104), 0.87))  # within noise: the higher AuC
    assert run.run == "unet" and "within noise of it: deep" in line and "the highest AuC, 0.87" in line


def test_the_headline_cell_names_each_score_it_beats_the_baseline_on():
    from torchbearer_colorize.report.page import against_baseline

    def cell(task, mse, mse_input_l=None, baseline="gray copy (baseline)"):
        scores = {"mse": mse} if mse_input_l is None else {"mse": mse, "mse_input_l": mse_input_l}
        run = with_images(fake("r", 0.01, task=task), **scores)
        run["references"]["baseline"] = dict(TRUTH, mse=0.0132, mse_input_l=0.0132)
        run["references"]["baseline_label"] = baseline
        return against_baseline(collect({"e": {0: [run]}}).get("e", "r"))
    assert cell("colorize", 0.0174, 0.0106) == "no / yes"  # redraws the lightness: loses; its colour wins
    assert cell("colorize", 0.012, 0.0140) == "yes / no"
    assert cell("color-classes", 0.0102, 0.0102) == "yes"  # keeps the lightness already: one score
    assert cell("denoise", 0.009, baseline="noisy input (baseline)") == "yes (noisy input)"


def test_the_readme_block_is_the_pages_conclusions_and_headline():
    text = render_report(full_summary(), out=Path("/nonexistent"), command="c", seeds=(0,), notes=())
    block = readme_block(text)
    assert "](figures/lr_sweep/table.md)" in block
    tally = re.match(r"The report's (\d+) conclusions against our runs: (.+) \(\[each", block)
    counts = dict((word, int(n)) for n, word in re.findall(r"(\d+) ([a-z ]+?)(?:,|$)", tally.group(2)))
    found = [v.verdict.split(":")[0].split(";")[0].split(" (")[0] for v in verdicts(full_summary())]
    assert sum(counts.values()) == int(tally.group(1)) == len(found)
    assert counts == {word: found.count(word) for word in found}
    header = next(line for line in block.splitlines() if line.startswith("|"))
    assert header == ("| experiment | run | test MSE per image | on the input's L | beats the gray copy: as trained / on "
                      "the input's L |")
    readme = "intro\n## Results\n<!-- results: copied from figures/REPORT.md -->\nold\n<!-- end of results -->\nmore"
    synced = sync_readme(readme, text)
    assert "old" not in synced and block in synced and synced.endswith("more")
    assert readme_block("# an older page without the sections") is None


# ---- the command, end to end ---------------------------------------------------------------------

SECTIONS = ("## What we found", "## Headline", "### Learning-rate sweep (question 4)", "### Optimizers (question 4)",
            "### A deeper net (question 4)", "### Frozen inception_v3 encoder (question 4)", "### U-net (question 4)",
            "### Salt-and-pepper denoising (question 5)", "### beta-VAE on fruits (exercise 2)",
            "## Choices that change how the results read")


@pytest.mark.slow
def test_report_quick_end_to_end_over_two_seeds_then_reuses_everything(tmp_path, monkeypatch, capsys, small_quick):
    """The whole report, every experiment at two seeds (the default is seed 0 alone; a second seed goes the way
    every further one does, and its tables are combined over the seeds), then again: every run reused, the same
    page."""
    # no network in tests: the pretrained weights are "unavailable", so the command must fall back itself
    monkeypatch.setattr(report_command, "pretrained_encoder_problem", lambda: "no network here")
    argv = ["--quick", "--seeds", "0,1", "--runs-dir", str(tmp_path / "runs"), "--cache-dir", str(tmp_path / "cache"),
            "--out", str(tmp_path / "out"), "--verbose", "0"]
    summary = report_command.main(argv)
    printed = capsys.readouterr().out
    assert "falling back to a random frozen encoder" in printed
    text = (tmp_path / "out" / "REPORT.md").read_text()
    for section in SECTIONS:
        assert section in text, section
    assert len(text) <= 25_000  # every verdict with its deciding numbers, and each figure read in numbers
    assert len(re.findall(r"^- .+: \*\*.+\*\*", text, flags=re.M)) >= 15  # one line per conclusion
    checks = (tmp_path / "out" / "checks.md").read_text()
    assert len(re.findall(r"^\| .+ \| \*\*(.+)\*\* \|$", checks, flags=re.M)) >= 15 + 7
    assert "not comparable: our encoder is random, not ImageNet-pretrained" in text
    assert (tmp_path / "out" / "comparison.png").exists() and (tmp_path / "out" / "lr_sweep" / "test_loss_vs_lr.png").exists()
    # every grid shows the same test paintings: the truths of each colorizer's and the denoiser's sample rows are
    # the lr sweep's, pixel for pixel
    _, _, truth = (rows for _, rows in summary.get("lr_sweep", "lr 0.001").first["sample_rows"]())
    for experiment, run, _ in report_command.COMPARED + (("denoise", "denoise", ""),):
        _, _, target = (rows for _, rows in summary.get(experiment, run).first["sample_rows"]())
        assert target.shape == truth.shape and (target == truth).all(), experiment
    assert not (tmp_path / "out" / "deep" / "test_loss.png").exists()  # one run: no single-line overlay
    for experiment in report_command.NAMES:
        assert (tmp_path / "out" / experiment / "table.md").exists()
    for link in re.findall(r"!\[[^]]*\]\(([^)]+)\)", text):
        assert (tmp_path / "out" / link).exists(), link
    assert f"{summary.n_runs} run(s) trained, 0 reused" in printed
    # the seeds combined: each experiment's table over them, beside each seed's own
    for experiment in report_command.NAMES:
        folder = tmp_path / "out" / experiment
        if experiment in report_command.ONE_SEED:  # trained at the first seed only: nothing to combine
            assert not (folder / "table_seeds.md").exists() and not (folder / "seed1").exists()
            continue
        first_line = (folder / "table_seeds.md").read_text().splitlines()[0]
        assert first_line.endswith(", seeds 0, 1") and "1 epoch" in first_line, experiment
        header = (folder / "table_seeds.csv").read_text().splitlines()[0].split(",")
        assert {"seeds", "test_loss_std", "train_loss_std", "best_test_loss_std"} <= set(header), experiment
        # each seed's own table: the first where the experiment alone writes it, the others in seed<N>/
        assert "seeds" not in (folder / "table.csv").read_text().splitlines()[0].split(",")
        assert (folder / "seed1" / "table.csv").exists() and not (folder / "seed0").exists()
        assert f"({experiment}/table_seeds.md)" in text
    for experiment in ("lr_sweep", "denoise"):  # and the colour metrics' spread
        assert "test_ssim_std" in (tmp_path / "out" / experiment / "table_seeds.csv").read_text().splitlines()[0]
    assert "**Seeds**: 0, 1. Tables show mean ± sample std over the seeds" in text
    assert "/2 |" in checks  # the unstable column counts seeds

    again = report_command.main(argv)
    printed = capsys.readouterr().out
    assert f"0 run(s) trained, {again.n_runs} reused" in printed and "] training " not in printed
    assert (tmp_path / "out" / "REPORT.md").read_text() == text


def test_the_comparison_refuses_a_row_on_other_paintings():
    images = np.random.default_rng(0).random((2, 8, 3, 4, 4))
    report_command.same_paintings("small", (images[0], images[1]), (images[0].copy(), images[1].copy()))
    other = images[1][::-1]  # the same paintings in another order: other images in each column
    with pytest.raises(ValueError, match="the inception run's sample grid shows other test images"):
        report_command.same_paintings("inception", (images[0], images[1]), (images[0], other))
    with pytest.raises(ValueError, match="other test images"):
        report_command.same_paintings("inception", (images[0], images[1]), (images[0][:4], images[1][:4]))


def test_the_report_says_which_inception_weights_it_uses_and_why(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    asked = report_command.parser().parse_args(["--no-pretrained"])
    assert report_command.inception_encoder(asked) == (
        True, f"a random frozen encoder, as --no-pretrained asks (labelled {NOT_PRETRAINED!r})")
    default = report_command.parser().parse_args([])
    monkeypatch.setattr(report_command, "pretrained_encoder_problem", lambda: "could not get them (no network). Run")
    assert report_command.inception_encoder(default) == (
        True, "the pretrained inception_v3 weights are not available (could not get them (no network)); falling back "
              f"to a random frozen encoder, labelled {NOT_PRETRAINED!r}")
    monkeypatch.setattr(report_command, "pretrained_encoder_problem", lambda: None)  # a download succeeds
    weights = tmp_path / "torch" / "hub" / "checkpoints" / "inception_v3_google-0cc3c7bd.pth"
    assert report_command.pretrained_weights_file() == weights
    assert report_command.inception_encoder(default) == (
        False, f"the ImageNet-pretrained inception_v3 weights, downloaded to {weights}")
    weights.parent.mkdir(parents=True)
    weights.touch()
    assert report_command.inception_encoder(default)[1].endswith(f"weights, cached in {weights}")


@pytest.mark.parametrize("args, message", [
    (["--seeds", "a"], "--seeds"),
    (["--seeds", ","], "--seeds"),
    (["--only", "lr_sweep,nope"], "nope"),
])
def test_bad_options(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        report_command.main(args + ["--runs-dir", str(tmp_path / "runs")])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_missing_data_root_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        report_command.main(["--paintings-root", str(tmp_path / "nowhere"), "--runs-dir", str(tmp_path / "runs"),
                             "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2 and "--paintings-root" in capsys.readouterr().err
    assert not (tmp_path / "out" / "REPORT.md").exists()


def test_the_shape_lines_compute_their_directions():
    from torchbearer_colorize.report.verdicts import shapes

    def lines(unet_loss, lr01_loss, vae_train):
        vae = fake("beta-VAE", 20000.0)
        vae["train_loss"] = vae_train
        return [shape.text for shape in shapes(collect({"lr_sweep": {0: sweep([0.02, 0.01, lr01_loss, 0.2])},
                                                         "unet": {0: [fake("unet", unet_loss)]},
                                                         "vae_fruits": {0: [vae]}}))]
    found = lines(0.008, 0.0101, 19000.0)
    assert ("lr 0.01 against lr 0.001 (test loss): the report's 16 x, ours level: a disagreement (the report's lr 0.01 "
            "run may be mislabelled: its printed settings repeat lr 0.001's).") in found
    assert any(line.startswith("The U-net's test loss against the small net's: the report's above") and
               "ours below (0.008 vs 0.01)" in line for line in found)
    assert "The beta-VAE's test loss above its train loss: the report's by 9%, ours by 5%." in found
    assert "in 5 of our 5" in found[-1]  # fake train losses are 1.1 x the test losses
    found = lines(0.012, 0.03, 10000.0)
    assert found[0].endswith("ours 3 x.") and "ours above (0.012 vs 0.01)" in found[1] and "ours by 100%" in found[2]
    assert [s.found for s in shapes(collect({"lr_sweep": {0: sweep([0.02, 0.01, 0.03, 0.2])}}))][0] is False


def test_a_tiny_share_shows_its_size_not_zero():
    assert percent(Stat([0.000031]), None) == "0.0031%"  # SGD's last-epoch fall: not "0.00%"
    assert percent(Stat([0.5])) == "50%" and percent(Stat([0.1234]), 2) == "12.34%"
    assert percent(Stat([0.01, 0.03]), None).startswith("2% ± 1.4%")


def test_sgd_and_adadelta_barely_learn_when_their_pictures_are_one_flat_colour():
    def found(sgd_spread, adadelta_spread):
        runs = [with_images(fake(name, loss, optimizer=name.lower()), lab_spread=spread)
                for name, loss, spread in (("SGD", 0.05, sgd_spread), ("Adadelta", 0.05, adadelta_spread),
                                           ("Adam", 0.01, 25.0))]
        return by_claim(collect({"optimizers": {0: runs}}))[BARELY_CLAIM]
    flat = 0.05 * TRUTH["lab_spread"]  # 5 % of the truth's: one flat colour
    assert found(flat, flat) == "agrees"
    assert found(flat, 0.5 * TRUTH["lab_spread"]) == "disagrees"  # Adadelta's pictures have colour


def test_a_page_that_differs_only_in_when_and_how_it_was_generated_is_the_same_page(tmp_path):
    page = tmp_path / "REPORT.md"
    assert not report_command.same_page(page, "# R\nGenerated on 2026-01-01 by `a`\nbody\n")  # absent
    page.write_text("# R\nGenerated on 2026-01-01 by `a`\nbody\n")
    assert report_command.same_page(page, "# R\nGenerated on 2026-12-06 by `b --verbose 0`\nbody\n")
    assert not report_command.same_page(page, "# R\nGenerated on 2026-01-01 by `a`\nanother body\n")


def test_the_sharpest_lr_is_said_with_those_within_noise_of_it():
    from torchbearer_colorize.report.verdicts import shapes
    def lines(sharp_001):  # lr 0.01's sharpness 7 and 9 over two seeds; lr 0.001's as given
        runs = {seed: [with_images(r, sharpness_half=value) for r, value in
                       zip(sweep([0.02, 0.01, 0.011, 0.2], seed), (2.0, sharp_001[seed], (7.0, 9.0)[seed], 0.1))]
                for seed in (0, 1)}
        return [shape.text for shape in shapes(collect({"lr_sweep": runs}))]
    assert any("the sharpest is lr 0.01, within noise of lr 0.001 (" in line for line in lines((7.5, 7.9)))
    assert any("the sharpest is lr 0.01 (" in line for line in lines((3.0, 3.1)))
