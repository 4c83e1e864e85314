"""Experiment tables: the report's numbers beside ours, as Markdown and CSV with fixed columns."""
import csv
import io
import math

from ..atomic import write_text

OPTIMIZER_NAMES = {"adam": "Adam", "sgd": "SGD", "adadelta": "Adadelta"}
COLUMNS = ("run", "model", "optimizer", "lr", "epochs", "batch_size", "data", "n_train", "n_test",
           "report_test_loss", "report_train_loss", "test_loss", "train_loss", "status")


def row(result, reported=None):
    """One table row from a stored run result and the report's numbers (None: not in the report).

    Besides ``COLUMNS`` it carries the last epoch's other metrics (``test_kl``, ...) and ``beta``,
    for tables that ask for them."""
    s = result["settings"]
    last = result["history"][-1] if result["history"] else {}
    return {
        **{k: v for k, v in last.items() if k != "epoch"}, "beta": s.get("beta"),
        "run": result["run"], "model": s["model"],
        "optimizer": OPTIMIZER_NAMES.get(s["optimizer"], s["optimizer"]), "lr": s["lr"],
        "epochs": s["epochs"], "batch_size": s["batch_size"], "data": result["data"],
        "n_train": result["n_train"], "n_test": result["n_test"],
        "report_test_loss": reported.test_loss if reported else None,
        "report_train_loss": reported.train_loss if reported else None,
        "test_loss": result["test_loss"], "train_loss": result["train_loss"], "status": result["status"],
    }


def metric_cells(scores):
    """The metric columns of a row from :func:`torchbearer_colorize.report.metrics.evaluate`'s means."""
    return {"test_psnr": scores["psnr"], "test_ssim": scores["ssim"], "colourfulness": scores["colourfulness"]}


def reference_row(label, scores, result):
    """A row that is no trained model (the baseline, the ground truth): metrics only, on ``result``'s data."""
    blank = dict.fromkeys(COLUMNS, "—")
    return {**blank, "run": label, "data": result["data"], "n_train": result["n_train"],
            "n_test": result["n_test"], "test_loss": scores["mse"], **metric_cells(scores), "beats_baseline": "—"}


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


def to_csv(rows, columns=COLUMNS):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: ("" if r[c] is None else r[c]) for c in columns} for r in rows)
    return buffer.getvalue()


def write_table(out_dir, title, rows, notes=(), columns=COLUMNS):
    """``table.md`` (title, table, notes) and ``table.csv`` in ``out_dir``."""
    md = f"# {title}\n\n" + to_markdown(rows, columns)
    if notes:
        md += "\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    write_text(out_dir / "table.md", md)
    write_text(out_dir / "table.csv", to_csv(rows, columns))
    return md
