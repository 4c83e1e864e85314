"""Run the rows of a report table and write its outputs: the spine every experiment module uses.

data -> ``train`` (a torchbearer Trial per run, or the stored run) -> results -> table + figures.
"""
import re

import numpy as np
import torch

from . import figures, tables
from .atomic import write_json
from .cli import experiment_parser, finish_args
from .data import ColorizationDataset, load_paintings
from .reported import reported
from .training import TaskData, load_model, run_dir, train, with_overrides

TABLE_NOTES = (
    "train loss: torchbearer's mean of the batch losses over the last epoch (what the report printed); "
    "test loss: the model after the last epoch, evaluated on the test split",
    "report columns: the numbers the report printed for these settings, on its own data",
)


def paintings(args):
    """The paintings the options ask for: ``--data-root`` (or the built-in set), ``--limit``, ``--strict``."""
    return load_paintings(args.data_root, args.cache_dir, args.limit, strict=args.strict)


def colorization_data(args):
    """Gray -> colour pairs from ``--data-root`` (or the built-in sample set)."""
    splits = paintings(args)
    return TaskData(ColorizationDataset(splits.train), ColorizationDataset(splits.test),
                    label=splits.label, fingerprint=splits.fingerprint, task="colorize")


def slug(name):
    return re.sub(r"[^A-Za-z0-9.]+", "_", name).strip("_")


def sample_indices(n, k=8):
    """``k`` test images spread evenly over the test split (the same ones for every run)."""
    return np.unique(np.linspace(0, n - 1, min(k, n)).round().astype(int)).tolist()


def sample_rows(model, dataset, device, labels):
    """Rows of a sample grid: inputs, predictions and (given a third label) targets."""
    inputs, targets = zip(*(dataset[i] for i in sample_indices(len(dataset))))
    inputs, targets = torch.stack(inputs), torch.stack(targets)
    with torch.no_grad():
        predictions = model(inputs.to(device)).cpu()
    rows = [(labels[0], inputs.numpy()), (labels[1], predictions.numpy())]
    return rows + [(labels[2], targets.numpy())] if len(labels) > 2 else rows


def experiment_main(argv, *, name, doc, title, specs, data=colorization_data, add_options=None, **outputs):
    """The whole of an experiment module's ``main``: parse the shared options (plus the module's own,
    added by ``add_options(parser)``), build the data, then train ``specs(args)`` and write outputs
    (``outputs`` go to ``run_experiment``)."""
    parser = experiment_parser(name, doc)
    if add_options:
        add_options(parser)
    args = finish_args(parser.parse_args(argv))
    return run_experiment(name, title, specs(args), data(args), args, **outputs)


def run_experiment(experiment, title, specs, data, args, notes=(), columns=tables.COLUMNS,
                   curves=(("loss", "MSE loss"),), run_figures=None):
    """Train (or reuse) every run in ``specs``, then write all tables and figures under ``args.out``.

    ``curves`` names the metrics plotted per run; ``run_figures(out, name, model, data, caption)``
    writes an experiment's own figures for each trained model."""
    out = args.out
    results = []
    for spec in specs:
        spec = with_overrides(spec, epochs=args.epochs, batch_size=args.batch_size)
        result = train(spec, data, runs_dir=args.runs_dir, seed=args.seed, device=args.device,
                       force=args.force, verbose=args.verbose)
        results.append(result)
        name = slug(result["run"])
        write_json(out / "results" / f"{name}.json", result)
        caption = f"{experiment}: {result['run']} ({result['status']})\n{data.label}"
        figures.loss_curve(out / f"{name}_loss.png", result, caption, curves)
        model = load_model(run_dir(args.runs_dir, result["settings"]) / "model.pt")
        if data.display_model is not None:
            model = data.display_model(model)
        shown = data.display if data.display is not None else data.test
        rows = sample_rows(model, shown, "cpu", data.row_labels)
        figures.sample_grid(out / f"{name}_samples.png", rows, caption)
        if run_figures:
            run_figures(out, name, model, data, caption)
    figures.overlay(out / "test_loss.png", results, f"{title}\n{data.label}", f"test {curves[0][1]}")
    rows = [tables.row(r, reported(experiment, r["run"])) for r in results]
    notes = (f"data: {data.label}; {results[0]['n_train']} train / {results[0]['n_test']} test images, "
             f"seed {args.seed}",) + TABLE_NOTES + tuple(notes)
    markdown = tables.write_table(out, title, rows, notes, columns)
    print(markdown)
    print(f"tables, figures and result JSONs written to {out}/")
    return results
