from pathlib import Path

from torchbearer_colorize.report import fidelity

ROOT = Path(__file__).resolve().parent.parent


def test_docs_fidelity_is_rendered_from_the_one_source():
    assert (ROOT / "docs" / "fidelity.md").read_text() == fidelity.document(), \
        "docs/fidelity.md is stale: run python -m torchbearer_colorize.fidelity"


def test_every_note_names_known_experiments_and_has_no_stray_pipes():
    known = set(fidelity.EVERY) | {"color_classes"}
    for note in fidelity.NOTES:
        assert note.experiments and set(note.experiments) <= known, note.topic
        for cell in (note.topic, note.report, note.code, note.why):
            assert cell.strip() and "|" not in cell.replace("\\|", ""), note.topic
