import re

import pytest

from experiments import report as report_command
from torchbearer_colorize.report.reported import REPORTED
from torchbearer_colorize.report.verdicts import Stat, collect, relation, render_report, verdicts

# ---- the verdict rules, on made-up results (no training) -----------------------------------------


def fake(run, test_loss, seed=0, data="built-in sample set", **settings):
    return {"run": run, "test_loss": test_loss, "train_loss": test_loss * 1.1, "status": "finished",
            "settings": {"model": "small", "optimizer": "adam", "lr": 1e-3, "epochs": 5, "batch_size": 32,
                         "seed": seed, "run": run, **settings},
            "data": data, "n_train": 10, "n_test": 5, "seconds": 60.0, "device": "cpu", "peak_rss_mb": 500.0,
            "versions": {"torch": "x"}, "finished_at": "2026-01-01T00:00:00+00:00"}


def sweep(losses, seed=0):
    return [fake(f"lr {lr:g}", loss, seed) for lr, loss in zip((1e-4, 1e-3, 1e-2, 1e-1), losses)]


def by_claim(summary):
    return {v.claim: v.verdict for v in verdicts(summary)}


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
    assert found["the beta-VAE's test loss is within a factor of 10 of the report's"] == "disagrees"
    assert found["Adam beats SGD and Adadelta at 5 epochs (lr 1e-3)"] == "not run"
    assert found[UNET_CLAIM] == "not run"  # no U-net and no image measures


UNET_CLAIM = ("the U-net's pictures are clearer and sharper than the small net's "
              "(the skips carry the detail the bottleneck loses)")
DEEP_CLAIM = "the deep net's pictures are blurrier than the small net's (its latent is very small)"
BROWN_CLAIM = "MSE paints everything brown: the small net's predictions are brown and far less colourful than the truth"
CLASSES_CLAIM = "colour classification gives brighter, more saturated colour than MSE"
TRUTH = {"mse": 0.0, "psnr": float("inf"), "ssim": 1.0, "colourfulness": 40.0, "chroma": 30.0, "lab_a": 5.0,
         "lab_b": 12.0, "sharpness": 10.0}


def with_images(result, **scores):
    """``result`` with measured test predictions (``metrics``) and the truth's (``references``)."""
    base = {"mse": result["test_loss"], "psnr": 20.0, "ssim": 0.6, "colourfulness": 30.0, "chroma": 15.0,
            "lab_a": 4.0, "lab_b": 9.0, "sharpness": 6.0}
    return {**result, "metrics": {**base, **scores},
            "references": {"baseline_label": "gray copy (baseline)", "truth": TRUTH, "baseline": dict(TRUTH, mse=0.02)}}


def image_verdicts(small=None, unet=None, deep=None, seeds=(0,)):
    results = {"lr_sweep": {}, "unet": {}, "deep": {}}
    for seed in seeds:
        results["lr_sweep"][seed] = [with_images(r, **(small or {})) for r in sweep([0.02, 0.01, 0.03, 0.2], seed)]
        results["unet"][seed] = [with_images(fake("unet", 0.009, seed), **(unet or {}))]
        results["deep"][seed] = [with_images(fake("deep", 0.015, seed), **(deep or {}))]
    return by_claim(collect(results))


def test_image_claims_are_measured_on_the_predictions_not_the_loss():
    found = image_verdicts(unet={"ssim": 0.7, "sharpness": 8.0}, deep={"sharpness": 4.0})
    assert found[UNET_CLAIM] == "agrees" and found[DEEP_CLAIM] == "agrees"
    found = image_verdicts(unet={"ssim": 0.7, "sharpness": 5.0}, deep={"sharpness": 7.0})
    assert found[UNET_CLAIM] == "disagrees" and found[DEEP_CLAIM] == "disagrees"  # blurrier U-net, sharper deep


def test_brown_cast_needs_a_brown_hue_and_far_less_chroma():
    assert image_verdicts(small={"lab_a": 4.0, "lab_b": 9.0, "chroma": 15.0})[BROWN_CLAIM] == "agrees"  # 66 deg, 50 %
    assert image_verdicts(small={"lab_a": -4.0, "lab_b": 9.0, "chroma": 15.0})[BROWN_CLAIM] == \
        "disagrees: hue above the range"  # 114 degrees: yellow-green
    assert image_verdicts(small={"lab_a": 4.0, "lab_b": 9.0, "chroma": 25.0})[BROWN_CLAIM] == \
        "disagrees: chroma 83% of the truth's, not below 67%"


def test_classification_saturation_is_lab_chroma():
    runs = [with_images(fake("MSE regression (small, lr 0.001)", 0.01), chroma=12.0),
            with_images(fake("classification (annealed mean)", 2.0), chroma=20.0)]
    assert by_claim(collect({"color_classes": {0: runs}}))[CLASSES_CLAIM] == "agrees"
    runs[1] = with_images(runs[1], chroma=10.0)
    assert by_claim(collect({"color_classes": {0: runs}}))[CLASSES_CLAIM] == "disagrees"


def test_the_reports_own_numbers_pass_every_rule_on_losses():
    """A rule that fails its own source is wrong: fed the report's printed test losses, every verdict
    that rests on losses agrees (the rules on pictures have no numbers from the report to run on)."""
    results = {}
    for experiment, runs in REPORTED.items():
        rows = [fake(run, numbers.test_loss) for run, numbers in runs.items() if numbers.test_loss is not None]
        if rows:
            results[experiment] = {0: rows}
    found = verdicts(collect(results))
    on_losses = [v for v in found if v.verdict != "not run"]
    assert len(on_losses) >= 6
    assert {v.claim: v.verdict for v in on_losses if v.verdict != "agrees"} == {}
    assert {v.claim for v in found if v.verdict == "not run"} == {UNET_CLAIM, DEEP_CLAIM, BROWN_CLAIM, CLASSES_CLAIM}


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
    assert "| lr 0.001 | 0.0028 | 0.0035 | 0.011 ± 0.0014 |" in text  # the report's numbers beside ours
    assert "Not run in this invocation" in text  # the experiments --only left out


# ---- the command, end to end ---------------------------------------------------------------------

SECTIONS = ("## The report's conclusions, checked", "### Question 4: learning-rate sweep",
            "### Question 4: optimizers", "### Question 4: a deeper net", "### Question 4: frozen inception_v3 encoder",
            "### Question 4: U-net", "### Question 5: salt-and-pepper denoising",
            "## Exercise 2: beta-VAE on Fruits-360", "## Settings of every run", "## Fidelity notes")


@pytest.mark.slow
def test_report_quick_end_to_end_then_reuses_everything(tmp_path, monkeypatch, capsys):
    # no network in tests: the pretrained weights are "unavailable", so the command must fall back itself
    monkeypatch.setattr(report_command, "pretrained_encoder_problem", lambda: "no network here")
    argv = ["--quick", "--runs-dir", str(tmp_path / "runs"), "--cache-dir", str(tmp_path / "cache"),
            "--out", str(tmp_path / "out"), "--verbose", "0"]
    summary = report_command.main(argv)
    printed = capsys.readouterr().out
    assert "falling back to a random frozen encoder" in printed
    text = (tmp_path / "out" / "REPORT.md").read_text()
    for section in SECTIONS:
        assert section in text, section
    verdict_rows = re.findall(r"^\| .+ \| \*\*(.+)\*\* \|$", text, flags=re.M)
    assert len(verdict_rows) >= 8 + 7  # the report's conclusions + one baseline check per colorizer
    assert "not comparable: the encoder was not pretrained" in text
    for experiment in report_command.NAMES:
        assert (tmp_path / "out" / experiment / "table.md").exists()
    for link in re.findall(r"!\[[^]]*\]\(([^)]+)\)", text):
        assert (tmp_path / "out" / link).exists(), link
    assert f"{summary.n_runs} run(s) trained, 0 reused" in printed

    again = report_command.main(argv)
    printed = capsys.readouterr().out
    assert f"0 run(s) trained, {again.n_runs} reused" in printed and "] training " not in printed
    assert (tmp_path / "out" / "REPORT.md").read_text() == text


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


@pytest.mark.slow
def test_report_with_two_seeds_combines_each_experiments_table(tmp_path):
    argv = ["--quick", "--seeds", "0,1", "--only", "lr_sweep,denoise", "--runs-dir", str(tmp_path / "runs"),
            "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "out"), "--verbose", "0"]
    report_command.main(argv)
    for experiment in ("lr_sweep", "denoise"):
        folder = tmp_path / "out" / experiment
        first_line = (folder / "table_seeds.md").read_text().splitlines()[0]
        assert first_line.endswith(", seeds 0, 1") and "1 epoch" in first_line
        header = (folder / "table_seeds.csv").read_text().splitlines()[0].split(",")
        assert {"seeds", "test_loss_std", "train_loss_std", "best_test_loss_std", "test_ssim_std"} <= set(header)
        # each seed's own table: the first where the experiment alone writes it, the others in seed<N>/
        assert "seeds" not in (folder / "table.csv").read_text().splitlines()[0].split(",")
        assert (folder / "seed1" / "table.csv").exists() and not (folder / "seed0").exists()
    text = (tmp_path / "out" / "REPORT.md").read_text()
    assert "Seeds: 0, 1 (mean ± sample standard deviation over the seeds)" in text
    assert "/2 |" in text  # the unstable column counts seeds
