"""Report question 2's classification approach, built: colorization as per-pixel classification over
quantized ab colours with class rebalancing (Zhang, Isola & Efros 2016, "Colorful Image
Colorization"), with the paper's ablation (its Table 1) and beside the report's MSE regression.

Lab colour space; ab on a grid of step 10, keeping the 261 bins that sRGB colours reach. Three models on the
small colorizer's blocks (its encoder, one decoder block and a 1x1 convolution) predict at 64 x 64, and each
decodes onto the input's lightness (upsampled bilinearly):
- a*b* regression with an L2 loss (two channels, in Lab units);
- classification: a distribution over the bins, targets soft-encoded over the 5 nearest bins (Gaussian,
  sigma 5), the cross-entropy, decoded by the annealed mean (T = 0.38);
- the same, rebalanced: the cross-entropy weighted by ((1 - 0.5) p + 0.5 / Q)^-1 of the target's nearest bin
  (p the training targets' bin distribution, smoothed, sigma 5): the paper's model.
Adam, lr 0.001, batch 32, 20 epochs (the report's 5, in steps): the settings of the MSE model they are compared
with, the lr sweep's "lr 0.001" run (reused when stored). Details: torchbearer_colorize/color_classes.py,
docs/fidelity.md.

Writes table.md / table.csv (the MSE model, the three ablation models, the gray copy, the ceiling and the ground
truth on test MSE, also on the input's lightness, PSNR, SSIM, colourfulness, chroma and Zhang et al.'s AuC, raw
and rebalanced), comparison.png (gray / MSE / the three / truth), and per run of the ablation the usual loss
curve, sample grid and result JSON.

Time at the report's settings on 2 CPU cores: about 17 min (four runs of 20 epochs; the classifications' 261
outputs a pixel make them the slow ones); about 13 min when the lr sweep's "lr 0.001" run is stored (runs/ holds
it) and reused.
"""
from pathlib import Path

from torchbearer_colorize.training.cli import experiment_parser, parse_options, user_errors_exit

NAME = "color_classes"

if __name__ == "__main__":  # --help and mistyped options answered before torch is imported (seconds)
    experiment_parser(NAME, __doc__).parse_args()

import torch  # noqa: E402
from torch.optim import Adam  # noqa: E402
from torch.utils.data import Dataset  # noqa: E402
from torchbearer import Trial  # noqa: E402

from torchbearer_colorize import color_classes as cc  # noqa: E402
from torchbearer_colorize import distributed  # noqa: E402
from torchbearer_colorize.atomic import write_json  # noqa: E402
from torchbearer_colorize.data.cache import fingerprint  # noqa: E402
from torchbearer_colorize.data.tasks import GRAY_COPY, TaskData, colorization_data  # noqa: E402
from torchbearer_colorize.models.classification import ABRegressor, ClassColorizer, RGBPredictor  # noqa: E402
from torchbearer_colorize.report import fidelity, figures, metrics, tables  # noqa: E402
from torchbearer_colorize.report.outputs import (  # noqa: E402
    TRUTH, quick_caption, run_metrics, stored_json, write_run_outputs)
from torchbearer_colorize.training.runs import (  # noqa: E402
    RunSpec, TrainOptions, plan_runs, run_dir, train, with_overrides)
from torchbearer_colorize.training.samples import sample_indices  # noqa: E402
from torchbearer_colorize.training.store import load_model  # noqa: E402

from . import lr_sweep  # noqa: E402

TITLE = ("Colour classification (Zhang et al. 2016: rebalanced soft-encoded cross-entropy, annealed mean) "
         "vs MSE regression; small colorizer blocks")
# The lr sweep's "lr 0.001" run: same settings, so training.train reuses it when stored.
MSE_SPEC = RunSpec("MSE regression (small, lr 0.001)", model="small", optimizer="adam", lr=1e-3, epochs=lr_sweep.EPOCHS)
SETTINGS = {"optimizer": "adam", "lr": 1e-3, "epochs": lr_sweep.EPOCHS}
REGRESSION_RUN = "ab regression (L2)"
PLAIN_RUN = "classification, not rebalanced"
CLASSES_RUN = "classification (annealed mean)"  # rebalanced: the paper's model
ORACLE = "true 64 x 64 ab + input's L (ceiling)"
COLUMNS = ("run", "model", "loss", "optimizer", "lr", "epochs", "batch_size", "data", "n_train", "n_test",
           "test_mse", "test_mse_input_l", "test_psnr", "test_ssim", "colourfulness", "colourfulness_input_l", "chroma",
           "auc", "auc_rebalanced", "test_loss", "train_loss", "status", "best_test_loss", "best_epoch", "unstable")


def trial(run):
    """One run of the paper's ablation (its Table 1), all on the small colorizer's blocks at 64 x 64, Adam: the
    a*b* regression with an L2 loss, or the classification over the ab bins with the soft-encoded cross-entropy,
    rebalanced by the training targets' (smoothed) bin distribution or not (every weight 1)."""
    if run.spec.loss == "ab_l2":
        model, criterion = ABRegressor(), cc.ABSquaredError()
    else:
        bins = cc.ab_bins()
        prior = cc.smooth_distribution(cc.bin_distribution(run.data.train.ab, bins), bins)
        weights = cc.rebalancing_weights(prior) if run.spec.loss == "zhang_rebalanced" else torch.ones(len(bins))
        model, criterion = ClassColorizer(n_bins=len(bins)), cc.RebalancedCrossEntropy(bins, weights)
    return Trial(model, Adam(model.parameters(), lr=run.spec.lr), criterion, metrics=["loss"],
                 callbacks=run.callbacks()).with_generators(*run.loaders())


def ablation_specs():
    """The paper's Table 1 on our blocks: regression, classification, rebalanced classification (the Adam, lr 0.001,
    20 epochs of the MSE model they are compared with)."""
    classes = {"model": "small_classes", "model_kwargs": {"n_bins": len(cc.ab_bins())}}
    return [RunSpec(REGRESSION_RUN, model="small_ab", loss="ab_l2", **SETTINGS),
            RunSpec(PLAIN_RUN, loss="zhang_plain", **classes, **SETTINGS),
            RunSpec(CLASSES_RUN, loss="zhang_rebalanced", **classes, **SETTINGS)]


def class_data(color):
    """The classification task on the colorization data ``colour``: the same gray inputs (shared
    tensors) and 64 x 64 ab targets."""
    train_ab, test_ab = cc.ab_targets(color.train.color), cc.ab_targets(color.test.color)
    return TaskData(cc.ColorClassDataset(color.train.gray, train_ab), cc.ColorClassDataset(color.test.gray, test_ab),
                    label=color.label, fingerprint=fingerprint(color.fingerprint, "color-classes", cc.SETTINGS),
                    task="color-classes", display=color.test, display_model=RGBPredictor, test_groups=color.test_groups,
                    row_labels=("gray input", f"classification (annealed mean, T {cc.TEMPERATURE:g})", "ground truth"))


class OracleInputs(Dataset):
    """Items ``((gray, true 64 x 64 ab), colour)``: scores decoding the true ab targets, a practical
    ceiling for any 64 x 64 ab prediction joined with the gray input's L."""

    def __init__(self, color_test, classes_test):
        self.color, self.ab = color_test, classes_test.ab

    def __len__(self):
        return len(self.color)

    def __getitem__(self, index):
        gray, target = self.color[index]
        return (gray, self.ab[index]), target


LOSSES = {"ab_l2": "squared ab error (Lab units^2)", "zhang_plain": "soft-encoded cross-entropy",
          "zhang_rebalanced": "rebalanced soft-encoded cross-entropy"}


def model_row(result, loss, scores):
    return {**tables.row(result), "loss": loss, **tables.metric_cells(scores), "chroma": scores["chroma"]}


def reference_row(label, scores, result, truth=False):
    """tables.reference_row with this table's columns; the truth row shows its colour only (colourfulness, chroma)."""
    row = {**tables.reference_row(label, scores, result, COLUMNS), "chroma": scores["chroma"]}
    return {**row, **dict.fromkeys(("test_mse", "test_mse_input_l", "test_psnr", "test_ssim"), "—")} if truth else row


def comparison_figure(path, color, mse_model, models, caption):
    """Gray input / MSE prediction / each ablation model's prediction (``models``: ``{label: model}``) / ground
    truth for the sample images of ``color``'s test split."""
    def rows():
        test, picked = color.test, sample_indices(len(color.test), groups=color.test_groups)
        gray, truth = (torch.stack(items) for items in zip(*(test[i] for i in picked)))
        with torch.no_grad():
            return [("gray input", gray.numpy()), ("MSE regression (RGB)", mse_model(gray).numpy()),
                    *((label, model.predict_rgb(gray).numpy()) for label, model in models.items()),
                    ("ground truth", truth.numpy())]
    figures.sample_grid(path, rows, caption, (figures.model_digest(mse_model),
                                              *map(figures.model_digest, models.values()), cc.TEMPERATURE,
                                              color.fingerprint, list(models)))


def ablation_metrics(directory, model, test):
    """A model's colour metrics on the RGB it decodes (the classification's at the annealed mean's T), stored."""
    name = "metrics.json" if isinstance(model, ABRegressor) else f"metrics-annealed-T{cc.TEMPERATURE:g}.json"
    return stored_json(directory / name, lambda: metrics.evaluate(model.predict_rgb, test))


def compare(args, color, classes, mse_result, ablation):
    """Each ablation run's loss curve, sample grid and result JSON, then the comparison table and figure;
    returns the MSE run's and the ablation runs' results with their colour metrics (``metrics``) and the gray-copy
    and truth rows (``references``)."""
    if not distributed.is_main():  # under torchrun rank 0 alone writes the comparison
        return [mse_result, *ablation]
    for result in ablation:
        write_run_outputs(NAME, result, classes, args, curves=(("loss", LOSSES[result["settings"]["loss"]]),))
    mse_dir = run_dir(args.runs_dir, mse_result["settings"])
    mse_model = load_model(mse_dir / "model.pt")
    models = {r["run"]: load_model(run_dir(args.runs_dir, r["settings"]) / "model.pt") for r in ablation}
    test = color.test
    mse_scores = run_metrics(mse_dir, mse_model, color)
    scores = {r["run"]: ablation_metrics(run_dir(args.runs_dir, r["settings"]), models[r["run"]], test)
              for r in ablation}
    references = stored_json(
        Path(args.runs_dir) / "references" / f"{NAME}-{fingerprint(classes.fingerprint)}.json",
        lambda: {"gray": metrics.evaluate(metrics.copy_input, test),
                 "oracle": metrics.evaluate(lambda inputs: cc.decode_ab(*inputs), OracleInputs(test, classes.test)),
                 "truth": metrics.evaluate(lambda targets: targets, metrics.TargetsAsInputs(test))},
        metrics.all_complete)
    first = ablation[-1]
    rows = [model_row(mse_result, "MSE (RGB)", mse_scores),
            *(model_row(r, LOSSES[r["settings"]["loss"]], scores[r["run"]]) for r in ablation),
            reference_row(GRAY_COPY, references["gray"], first),
            reference_row(ORACLE, references["oracle"], first),
            reference_row(TRUTH, references["truth"], first, truth=True)]
    bins = len(cc.ab_bins())
    notes = (
        f"data: {color.label}; {first['n_train']} train / {first['n_test']} test images, seed {args.seed}",
        "test_mse, test_psnr, test_ssim, colourfulness: of the 256 x 256 RGB predictions against the colour test "
        "images, per image, averaged (PSNR in dB, SSIM over the colour channels; colourfulness: Hasler-Suesstrunk, "
        "0-255 RGB, gray = 0); *_input_l: of the prediction's a*b* on the input's lightness (the ablation's rows "
        "decode so already: the same numbers); chroma: Lab's mean sqrt(a*^2 + b*^2); auc, auc_rebalanced: Zhang et "
        "al.'s AuC of the a*b* error over thresholds 0-150, rebalanced: each true colour counts equally; the gray "
        "copy is the input copied to three channels; the ceiling row decodes the "
        "true 64 x 64 ab targets as the ablation's predictions are decoded (upsampled, joined with the L of the "
        "gray input, which is not the colour image's L); the ground truth row scores the test images themselves",
        "test_loss / train_loss: each model's own training loss (MSE per pixel in RGB, the squared ab error in Lab "
        "units^2, or the cross-entropy in nats per 64 x 64 target pixel); not comparable between rows of "
        "different losses",
        "the paper's ablation (Zhang et al. 2016, Table 1) on the small colorizer's blocks: each predicts ab at "
        "64 x 64, upsampled bilinearly and joined with the input's L; the MSE (RGB) row redraws L too",
        f"classification: Lab, {bins} in-gamut ab bins of step {cc.STEP:g}; targets soft-encoded over the "
        f"{cc.NEIGHBOURS} nearest bins (sigma {cc.SIGMA:g}); rebalanced: weights ((1 - {cc.LAMBDA:g}) p + "
        f"{cc.LAMBDA:g} / Q)^-1 with p the training targets' bin distribution smoothed (sigma {cc.PRIOR_SIGMA:g}), "
        f"E_p[w] = 1; not rebalanced: every weight 1; decoded by the annealed mean, T {cc.TEMPERATURE:g}",
        "the MSE row is the lr sweep's \"lr 0.001\" run (the same stored run when present)",
        "fidelity notes (docs/fidelity.md): " + "; ".join(note.topic for note in fidelity.notes_for(NAME)),
    )
    title = f"{TITLE} ({tables.settings_text([mse_result['settings']] + [r['settings'] for r in ablation])})"
    table = tables.write_table(args.out, title, rows, notes + (tables.STABILITY_NOTE,), COLUMNS)
    caption = (f"{NAME}: gray / MSE (RGB) / the ablation on the input's L / truth; "
               f"{tables.settings_text([first['settings']])}, seed {args.seed}\n{color.label}{quick_caption(args)}")
    comparison_figure(args.out / "comparison.png", color, mse_model, models, caption)
    write_json(args.out / "results" / "comparison.json",
               {"mse": mse_scores, **scores, **references, "n_bins": bins})
    print(table.markdown)
    print(f"comparison table and figure written to {args.out}/")
    shared = {"baseline_label": GRAY_COPY, "baseline": references["gray"], "truth": references["truth"]}
    # the comparison table replaces each ablation run's own one-row table, in the results too
    return [{**mse_result, "run": MSE_SPEC.name, "metrics": mse_scores, "references": shared, "table": table},
            *({**r, "metrics": scores[r["run"]], "references": shared, "table": table} for r in ablation)]


@user_errors_exit
def main(argv=None):
    args = parse_options(NAME, __doc__, argv=argv)
    color = colorization_data(args)
    classes = class_data(color)
    runs = plan_runs(NAME, ablation_specs(), classes, args)  # --epochs etc.; --spread-over: workers train first
    ablation = [train(spec, classes, trial, TrainOptions.from_args(args)) for spec in runs]
    if args.worker:  # a --spread-over worker trains its share of the ablation; the parent compares
        return ablation
    mse_spec = with_overrides(MSE_SPEC, epochs=args.epochs, batch_size=args.batch_size)
    mse_result = train(mse_spec, color, lr_sweep.trial, TrainOptions.from_args(args))
    return compare(args, color, classes, mse_result, ablation)


if __name__ == "__main__":
    main()
