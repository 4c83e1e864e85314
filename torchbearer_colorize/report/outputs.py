"""An experiment's outputs, from its runs once trained: per run its result JSON, loss curve and sample grid (and
the experiment's own figures), then its table (``table.md``, ``table.csv``) and, for several runs, their test
losses in one figure. The colour metrics they show are computed here once per run and stored beside it.
"""
import functools
import json
from pathlib import Path

from .. import distributed
from ..atomic import write_json
from ..data.cache import fingerprint
from ..training.runs import run_dir
from ..training.samples import sample_indices, sample_rows
from ..training.store import load_model
from . import fidelity, figures, metrics, tables
from .figures import slug
from .reported import reported

LOSS_NOTE = ("train loss: torchbearer's mean of the batch losses over the last epoch (what the report printed); "
             "test loss: the model after the last epoch, evaluated on the test split")


def report_note(experiment, results, report_steps):
    """What the report columns are beside these runs: its numbers for the same settings (its epochs counted in
    optimizer steps when ``report_steps`` is known), or, where any run's settings differ, its own settings'."""
    differ = []
    for result in results:
        numbers, s = reported(experiment, result["run"]), result["settings"]
        if numbers is None:
            continue
        steps = -(-result["n_train"] // s["batch_size"]) * s["epochs"]
        same = s["batch_size"] == 32 and (numbers.epochs is None or (
            abs(steps - numbers.epochs * report_steps) <= 0.05 * numbers.epochs * report_steps if report_steps
            else s["epochs"] == numbers.epochs))
        if not same:
            differ.append(result["run"])
    if differ:
        return (f"report columns: the numbers the report printed at its own settings (batch 32, its epochs over its "
                f"own data), NOT these: {', '.join(differ)} ran with other epochs, steps or batch size")
    return ("report columns: the numbers the report printed for these settings (its epochs counted in optimizer "
            "steps), on its own data")


TRUTH = "ground truth (reference)"
METRIC_COLUMNS = ("test_mse", "test_psnr", "test_ssim", "colourfulness", "beats_baseline")
# colorization tables: the same scores of the prediction's colour on the input's lightness, and the AuCs
COLOUR_COLUMNS = ("test_mse_input_l", "test_psnr_input_l", "colourfulness_input_l", "auc", "auc_rebalanced",
                  "beats_baseline_input_l")
COLOUR_TASKS = ("colorize", "colorize-inception")
METRICS_NOTE = ("test_mse, test_psnr, test_ssim, colourfulness: per test image, averaged (PSNR in dB; colourfulness: "
                "Hasler-Suesstrunk, signed opponents, 0-255 RGB, gray = 0); test_loss is torchbearer's batch mean "
                "(the report's measure; a short last batch weighs as much as a full one), so only models have one; "
                "beats_baseline: the model's test_mse is below the {baseline} row's")
COLOUR_NOTE = ("*_input_l: the same scores of the prediction's colour on the input's lightness (its a*b* joined with "
               "the gray input's L, as tbc-colorize decodes; a model that redraws L is scored on its colour alone); "
               "beats_baseline_input_l: test_mse_input_l below the {baseline} row's; auc, auc_rebalanced: Zhang et "
               "al. 2016's AuC of the a*b* error over thresholds 0-150 (1: the truth), rebalanced: each true colour "
               "counts equally (figures/checks.md defines both)")


def stored_json(path, compute, current=metrics.complete):
    """``path``'s JSON when present and ``current``, else ``compute()`` written there atomically (a cache
    of results that are expensive to recompute and cheap to store)."""
    if path.exists() and current(value := json.loads(path.read_text())):
        return value
    value = compute()
    write_json(path, value)
    return value


def quick_caption(args):
    """A caption line for ``--quick`` figures, so that their flat or noisy pictures are not read as results."""
    if not args.quick:
        return ""
    epochs = f"{args.epochs} epoch{'' if args.epochs == 1 else 's'}"
    return f"\n--quick smoke test ({epochs}, at most {args.limit} images a split): not a result"


def run_metrics(directory, model, data):
    """Colour metrics of a trained model on the test split, stored beside its run."""
    return stored_json(directory / "metrics.json",
                       lambda: metrics.evaluate(metrics.model_predictor(model), data.test, data.test_groups),
                       metrics.has_groups(data.test_groups))


def reference_metrics(data, runs_dir):
    """Metrics of the baseline (``data.baseline_predict``, by default the input as the prediction) and of
    the ground truth itself, once per data set (stored in the run store under ``references/``)."""
    images = data.display if data.display is not None else data.test

    def compute():
        return {"baseline": metrics.evaluate(data.baseline_predict or metrics.copy_input, images, data.test_groups),
                "truth": metrics.evaluate(lambda targets: targets, metrics.TargetsAsInputs(images))}
    return stored_json(Path(runs_dir) / "references" / f"{data.task}-{fingerprint(data.fingerprint)}.json",
                       compute, lambda stored: metrics.all_complete(stored) and
                       metrics.has_groups(data.test_groups)(stored["baseline"]))


GROUPS_NOTE = ("rows 'on <painter>': the same model's (or baseline's) per-image test MSE and metrics over that "
               "painter's test paintings alone, and whether it beats the baseline there")


def beats(scores, baseline):
    """The ``beats_baseline`` cells of a row: its test MSE below the baseline's, as trained and (where scored) on the
    input's lightness."""
    cells = {"beats_baseline": scores["mse"] < baseline["mse"]}
    if "mse_input_l" in scores and "mse_input_l" in baseline:
        cells["beats_baseline_input_l"] = scores["mse_input_l"] < baseline["mse_input_l"]
    return cells


def per_group_rows(results, baseline, data, columns):
    """A row per test group for each of ``results`` and for the baseline: is the result carried by one group?"""
    rows = []
    for name in data.test_groups:
        for result in results:
            scores = result["metrics"]["groups"][name]
            row = tables.reference_row(f"{result['run']} on {name}", scores, result, columns)
            rows.append({**row, "n_test": len(data.test_groups[name]), **beats(scores, baseline["groups"][name])})
        rows.append({**tables.reference_row(f"{data.baseline_label} on {name}", baseline["groups"][name], results[0],
                                            columns), "n_test": len(data.test_groups[name])})
    return rows


def write_outputs(experiment, title, results, data, args, *, notes=(), columns=tables.COLUMNS,
                  curves=(("loss", "MSE loss"),), run_figures=None, group_rows=()):
    """Every run's outputs (:func:`write_run_outputs`), then the table of ``results`` titled ``title`` under
    ``args.out``, with the shared notes and ``notes``; returns ``results``. Tasks with a baseline also get colour
    metrics and the baseline and ground-truth rows; the runs named in ``group_rows`` get a row per test group
    (``data.test_groups``: per painter), as does the baseline. Only the process that writes outputs writes them
    (not a ``--spread-over`` worker, not torchrun's ranks but 0)."""
    if args.worker or not distributed.is_main():
        return results
    out = args.out
    references = reference_metrics(data, args.runs_dir) if data.has_baseline else None
    for result in results:
        write_run_outputs(experiment, result, data, args, references, curves, run_figures)
    title = f"{title} ({tables.settings_text([r['settings'] for r in results])})"  # what ran, not what was meant
    if len(results) > 1:  # one run's test curve is already in its own loss figure
        figures.overlay(out / "test_loss.png", results,
                        f"{title}, seed {args.seed}\n{data.label}{quick_caption(args)}", f"test {curves[0][1]}")
    rows = [tables.row(r, reported(experiment, r["run"])) for r in results]
    notes = (f"data: {data.label}; {results[0]['n_train']} train / {results[0]['n_test']} test images, "
             f"seed {args.seed}", LOSS_NOTE, report_note(experiment, results, data.report_steps),
             tables.STABILITY_NOTE) + tuple(notes)
    if data.has_baseline:
        baseline = references["baseline"]
        colour = data.task in COLOUR_TASKS
        for row, result in zip(rows, results):
            row.update(tables.metric_cells(result["metrics"]), **beats(result["metrics"], baseline))
        columns = tuple(columns) + METRIC_COLUMNS + (COLOUR_COLUMNS if colour else ())
        rows += [tables.reference_row(data.baseline_label, baseline, results[0], columns),
                 tables.reference_row(TRUTH, references["truth"], results[0], columns)]
        notes += (METRICS_NOTE.format(baseline=data.baseline_label),)
        notes += (COLOUR_NOTE.format(baseline=data.baseline_label),) if colour else ()
        if data.test_groups and group_rows:
            rows += per_group_rows([r for r in results if r["run"] in group_rows], baseline, data, columns)
            notes += (GROUPS_NOTE,)
    topics = "; ".join(note.topic for note in fidelity.notes_for(experiment))
    if topics:
        notes += (f"fidelity notes (docs/fidelity.md): {topics}",)
    table = tables.write_table(out, title, rows, notes, columns)
    print(table.markdown)
    print(f"tables, figures and result JSONs written to {out}/")
    for result in results:  # reusable: tbc-colorize PHOTO --checkpoint ...
        print(f"checkpoint of {result['run']}: {run_dir(args.runs_dir, result['settings']) / 'model.pt'}")
        result["table"] = table  # in memory only, like sample_rows: the report's table over seeds
    return results


def write_run_outputs(experiment, result, data, args, references=None, curves=(("loss", "MSE loss"),),
                      run_figures=None):
    """One run's outputs under ``args.out``: its result JSON (with its colour metrics and the ``references``
    measures, for tasks with a baseline), its loss curves (``curves``: the metrics plotted), its sample grid
    (whose rows the result keeps in memory, for the report's comparison figure) and
    ``run_figures(out, name, model, data, caption, directory)``, an experiment's own figures of the trained model,
    which may return numbers read from them (a dict, kept in the result as its ``readings``)."""
    out, directory = args.out, run_dir(args.runs_dir, result["settings"])
    model = load_model(directory / "model.pt")
    if data.has_baseline:
        result["metrics"] = run_metrics(directory, model, data)
        result["references"] = {"baseline_label": data.baseline_label, **references}
    name = slug(result["run"])
    status = "" if result["status"] == "finished" else f" ({result['status']})"
    caption = (f"{experiment}: {result['run']}{status}; {tables.settings_text([result['settings']])}, seed "
               f"{result['settings']['seed']}\n{data.label}{quick_caption(args)}")
    gray = references["baseline"]["mse"] if data.task in COLOUR_TASKS and references else None
    figures.loss_curve(out / f"{name}_loss.png", result, caption, curves, data.report_steps,
                       (f"{data.baseline_label.replace(' (baseline)', '')}'s test MSE (per image)", gray)
                       if gray is not None else None)
    if data.display_model is not None:
        model = data.display_model(model).cpu()  # the inception encoder may be on the training device
    shown = data.display if data.display is not None else data.test
    # computed once, when a figure is drawn (not when the file has it already); in memory only (the JSON is
    # written): the report's comparison figure draws them too
    result["sample_rows"] = functools.cache(functools.partial(sample_rows, model, shown, "cpu", data.row_labels,
                                                              data.test_groups))
    # which test images it shows keys the grid too: a change of them redraws it
    result["figure_source"] = (figures.model_digest(model), data.fingerprint,
                               sample_indices(len(shown), groups=data.test_groups))
    figures.sample_grid(out / f"{name}_samples.png", result["sample_rows"], caption, result["figure_source"])
    if run_figures and (readings := run_figures(out, name, model, data, caption, directory)):
        result["readings"] = readings
    write_json(out / "results" / f"{name}.json",
               {k: v for k, v in result.items() if k not in ("sample_rows", "figure_source")})
    return result
