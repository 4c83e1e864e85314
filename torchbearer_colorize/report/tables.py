"""Experiment tables: the report's numbers beside ours, as Markdown and CSV with fixed columns."""
import csv
import io
import math
import statistics
from dataclasses import dataclass
from functools import cached_property

from ..atomic import write_text
from ..data import batch_used

OPTIMIZER_NAMES = {"adam": "Adam", "sgd": "SGD", "adadelta": "Adadelta"}
COLUMNS = ("run", "model", "optimizer", "lr", "epochs", "report_epochs", "batch_size", "data", "n_train", "n_test",
           "report_test_loss", "report_train_loss", "test_loss", "train_loss", "status",
           "best_test_loss", "best_epoch", "unstable")
UNSTABLE_FACTOR = 3  # unstable: a test loss after the best epoch's above 3x the best (a blow-up, not noise)
STABILITY_NOTE = (f"best_test_loss, best_epoch: the lowest test loss over the epochs and when; unstable: a later "
                  f"epoch's test loss exceeds {UNSTABLE_FACTOR}x the best (or is not finite)")


def stability(history):
    """``(best_test_loss, best_epoch, unstable)`` of a run's per-epoch history (None, None, False when empty)."""
    finite = [(h["test_loss"], h["epoch"]) for h in history if math.isfinite(h.get("test_loss", math.nan))]
    if not finite:
        return None, None, bool(history)
    best, epoch = min(finite)
    later = [h.get("test_loss", math.nan) for h in history if h["epoch"] > epoch]
    return best, epoch, any(not math.isfinite(x) or x > UNSTABLE_FACTOR * best for x in later)


def settings_text(settings):
    """What ran, read from runs' settings: "Adam, lr 0.001, 10 epochs, batch 32" (values that differ
    between the runs joined by "/"), so a title never states settings other than the ones used; "bf16" (or
    "fp32/bf16") last where a run trained with ``--bf16``."""
    def values(key, show=str):
        return "/".join(dict.fromkeys(show(s[key]) for s in settings if s.get(key) is not None))
    epochs = values("epochs")
    parts = [values("optimizer", lambda name: OPTIMIZER_NAMES.get(name, name)), f"lr {values('lr', fmt)}",
             f"{epochs} epoch{'' if epochs == '1' else 's'}", f"batch {values('batch_size')}"]
    parts += [f"beta {values('beta', fmt)}"] if values("beta") else []
    if values("autocast"):  # fp32 runs' titles stay what they always were
        parts.append("/".join(dict.fromkeys(s.get("autocast", "fp32") for s in settings)))
    return ", ".join(parts)


def row(result, reported=None):
    """One table row from a stored run result and the report's numbers (None: not in the report).

    Besides ``COLUMNS`` it carries the last epoch's other metrics (``test_kl``, ...) and ``beta``,
    for tables that ask for them."""
    s = result["settings"]
    last = result["history"][-1] if result["history"] else {}
    best, best_epoch, unstable = stability(result["history"])
    return {
        **{k: v for k, v in last.items() if k != "epoch"}, "beta": s.get("beta"),
        "run": result["run"], "model": s["model"],
        "optimizer": OPTIMIZER_NAMES.get(s["optimizer"], s["optimizer"]), "lr": s["lr"],
        "epochs": s["epochs"], "report_epochs": reported.epochs if reported else None,
        "batch_size": batch_used(s["batch_size"], result["n_train"]), "data": result["data"],
        "n_train": result["n_train"], "n_test": result["n_test"],
        "report_test_loss": reported.test if reported else None,  # the report's digits, as printed
        "report_train_loss": reported.train if reported else None,
        "test_loss": result["test_loss"], "train_loss": result["train_loss"], "status": result["status"],
        "best_test_loss": best, "best_epoch": best_epoch, "unstable": unstable,
    }


# the colour scores of colorization tables: the prediction's colour on the input's lightness, and Zhang et al.'s AuC
COLOUR_CELLS = {"test_mse_input_l": "mse_input_l", "test_psnr_input_l": "psnr_input_l",
                "colourfulness_input_l": "colourfulness_input_l", "auc": "auc", "auc_rebalanced": "auc_rebalanced"}


def metric_cells(scores):
    """The metric columns of a row from :func:`torchbearer_colorize.report.metrics.evaluate`'s means (the colour
    scores too, where the scores hold them: ``COLOUR_CELLS``)."""
    return {"test_mse": scores["mse"], "test_psnr": scores["psnr"], "test_ssim": scores["ssim"],
            "colourfulness": scores["colourfulness"],
            **{column: scores[key] for column, key in COLOUR_CELLS.items() if key in scores}}


def reference_row(label, scores, result, columns=COLUMNS):
    """A row that is no trained model (the baseline, the ground truth): metrics only, on ``result``'s data; no
    training loss (``test_loss`` "—": the per-image MSE is under ``test_mse``, as for the models)."""
    blank = dict.fromkeys(columns, "—")
    return {**blank, "run": label, "data": result["data"], "n_train": result["n_train"],
            "n_test": result["n_test"], **metric_cells(scores), "beats_baseline": "—",
            "beats_baseline_input_l": "—"}


def fmt(value):
    if value is None:
        return "not reported"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.1f}" if abs(value) >= 100 else f"{value:.4g}"
    return str(value)


def markdown_table(header, rows):
    """A Markdown table: ``header`` names, ``rows`` of cells (each shown with ``str``)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def to_markdown(rows, columns=COLUMNS):
    return markdown_table(columns, [[fmt(r[c]) for c in columns] for r in rows])


def cell(value):
    """A value as the CSV holds it: "" for None, yes/no for a boolean (as the Markdown says), else ``str``."""
    if value is None:
        return ""
    return ("yes" if value else "no") if isinstance(value, bool) else str(value)


def cells(rows, columns=COLUMNS):
    """``rows`` as the CSV holds them: each of ``columns`` as text (:func:`cell`)."""
    return [{c: cell(r[c]) for c in columns} for r in rows]


def to_csv(rows, columns=COLUMNS):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(cells(rows, columns))
    return buffer.getvalue()


@dataclass
class Table:
    """What an experiment's ``table.md`` and ``table.csv`` are written from."""
    title: str
    rows: list
    notes: tuple = ()
    columns: tuple = COLUMNS

    @cached_property
    def markdown(self):
        md = f"# {self.title}\n\n" + to_markdown(self.rows, self.columns)
        return md + ("\n" + "\n".join(f"- {n}" for n in self.notes) + "\n" if self.notes else "")


def write_table(out_dir, title, rows, notes=(), columns=COLUMNS, name="table"):
    """``<name>.md`` (title, table, notes) and ``<name>.csv`` in ``out_dir``; returns the :class:`Table`."""
    table = Table(title, rows, tuple(notes), tuple(columns))
    write_text(out_dir / f"{name}.md", table.markdown)
    write_text(out_dir / f"{name}.csv", to_csv(rows, columns))
    return table


MEASURES = ("test_loss", "train_loss", "best_test_loss", "test_mse", "test_psnr", "test_ssim", "colourfulness",
            "test_reconstruction", "test_kl", *COLOUR_CELLS)  # per-seed numbers: a multi-seed table's mean and `_std`


def combine_seeds(tables):
    """One table from the same experiment's tables of several seeds (``{seed: Table}``), rows matched by
    run and read as their CSV cells: each of MEASURES as its mean plus a ``<name>_std`` column (sample
    standard deviation), ``unstable`` and a differing ``beats_baseline(_input_l)`` as "k/n" seeds, other differing
    cells joined by "/". Returns ``(columns, rows)``."""
    parsed = {seed: cells(table.rows, table.columns) for seed, table in tables.items()}
    first = next(iter(parsed.values()))
    header = list(next(iter(tables.values())).columns)
    columns = ["run", "seeds"] + [c for name in header[1:] for c in ((name, f"{name}_std") if name in MEASURES
                                                                      else (name,))]
    rows = []
    for i, base in enumerate(first):
        matched = [rows_of[i] for rows_of in parsed.values()]
        if any(r["run"] != base["run"] for r in matched):
            raise ValueError(f"the seeds' tables list different runs: {[r['run'] for r in matched]}")
        row = {"run": base["run"], "seeds": ",".join(map(str, parsed))}
        for name in header[1:]:
            values = [r[name] for r in matched]
            numbers = [_number(v) for v in values]
            if name in MEASURES and None not in numbers:
                row[name], row[f"{name}_std"] = statistics.fmean(numbers), spread(numbers)
                continue
            if set(values) <= {"yes", "no"} and (name == "unstable" or len(set(values)) > 1):
                row[name] = f"{values.count('yes')}/{len(values)} seeds"
            else:
                row[name] = values[0] if len(set(values)) == 1 else "/".join(values)
            if name in MEASURES:
                row[f"{name}_std"] = "—"
        rows.append(row)
    return columns, rows


def spread(numbers):
    """Sample standard deviation; 0 when all are equal (the truth row's infinite PSNR), nan when an
    infinity differs from the rest."""
    if len(set(numbers)) == 1:
        return 0.0
    return statistics.stdev(numbers) if all(map(math.isfinite, numbers)) else math.nan


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None
