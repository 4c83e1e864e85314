"""Every place where the report is silent, ambiguous or wrong, and what the package does instead.

Read from their one source, the package data file ``fidelity.md`` beside this module (its opening
lines describe the shape). ``docs/fidelity.md`` is rendered from it (``python -m
torchbearer_colorize.report.fidelity``; a test checks it is current), ``figures/REPORT.md`` links the
table, and each experiment's table lists its topics.
"""
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

EVERY = ("lr_sweep", "optimizers", "deep", "inception", "unet", "denoise", "vae_fruits")  # the report's
LABELS = ("the report says", "the code does", "why", "experiments")


@dataclass(frozen=True)
class Note:
    topic: str
    report: str  # what the report says ("—": nothing)
    code: str  # what the code does
    why: str
    experiments: tuple  # the experiments it concerns


def parse(text):
    """One note per ``## topic`` section: four paragraphs, each opened by its label, in LABELS order."""
    notes = []
    for section in ("\n" + text).split("\n## ")[1:]:  # what precedes the first heading is no note
        topic, _, body = section.partition("\n")
        cells = [" ".join(p.split()) for p in re.split(r"\n[ \t]*\n", body) if p.strip()]
        if [cell.partition(": ")[0] for cell in cells] != list(LABELS):
            raise ValueError(f"fidelity note {topic!r}: expected paragraphs {', '.join(LABELS)}, in order")
        report, code, why, experiments = (cell.partition(": ")[2] for cell in cells)
        notes.append(Note(topic.strip(), report, code, why, tuple(e.strip() for e in experiments.split(","))))
    return tuple(notes)


SOURCE = files(__package__).joinpath("fidelity.md")  # package data, found wherever the package is installed
NOTES = parse(SOURCE.read_text(encoding="utf-8"))


def notes_for(experiment):
    """The notes that concern one experiment."""
    return [note for note in NOTES if experiment in note.experiments]


def to_markdown(notes=NOTES):
    """The notes as one Markdown table."""
    lines = ["| topic | the report says | the code does | why |", "|---|---|---|---|"]
    lines += [f"| {n.topic} | {n.report} | {n.code} | {n.why} |" for n in notes]
    return "\n".join(lines) + "\n"


HEADER = """# Fidelity notes

Every place where the report (the English restatement of the original Persian homework report)
is silent, ambiguous or wrong, and what this package does instead.
Generated from `torchbearer_colorize/report/fidelity.md`, the one source of truth, by
`python -m torchbearer_colorize.report.fidelity`; `figures/REPORT.md` links this table.

"""


def document():
    return HEADER + to_markdown()


def main():
    from ..atomic import write_text
    path = Path(__file__).resolve().parents[2] / "docs" / "fidelity.md"
    write_text(path, document())
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
