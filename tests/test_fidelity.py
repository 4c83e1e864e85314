import configparser
import re
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest

from torchbearer_colorize.report import fidelity

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(fidelity.__file__).resolve().parents[1]


def test_docs_fidelity_is_rendered_from_the_one_source():
    assert (ROOT / "docs" / "fidelity.md").read_text(encoding="utf-8") == fidelity.document(), \
        "docs/fidelity.md is stale: run python -m torchbearer_colorize.report.fidelity"
    assert fidelity.document() == fidelity.HEADER + fidelity.to_markdown()


def test_report_links_the_table_and_summarises_notes_that_exist():
    """REPORT.md links docs/fidelity.md and summarises a few notes by topic: each must be a note."""
    from torchbearer_colorize.report import page
    topics = {note.topic for note in fidelity.NOTES}
    assert set(page.KEY_CHOICES) <= topics
    assert (ROOT / "figures" / page.FIDELITY_LINK).resolve() == (ROOT / "docs" / "fidelity.md").resolve()


def test_every_note_names_known_experiments_and_has_no_stray_pipes():
    known = set(fidelity.EVERY) | {"color_classes"}
    for note in fidelity.NOTES:
        assert note.experiments and set(note.experiments) <= known, note.topic
        for cell in (note.topic, note.report, note.code, note.why):
            assert cell.strip() and "|" not in cell.replace("\\|", ""), note.topic
    topics = [note.topic for note in fidelity.NOTES]
    assert len(topics) == len(set(topics))


def test_the_source_is_package_data_found_through_the_package():
    source = files("torchbearer_colorize.report").joinpath("fidelity.md")
    assert fidelity.parse(source.read_text(encoding="utf-8")) == fidelity.NOTES
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    shipped = [name.strip() for name in setup["options.package_data"]["torchbearer_colorize.report"].split(",")]
    assert "fidelity.md" in shipped and "*.template" in shipped  # the pages' templates ship too


def test_the_notes_load_from_a_copy_of_the_package_outside_the_repository(tmp_path):
    shutil.copytree(PACKAGE, tmp_path / "torchbearer_colorize", ignore=shutil.ignore_patterns("__pycache__"))
    code = ("import torchbearer_colorize.report.fidelity as f; "
            "print(f.__file__); print(len(f.NOTES)); print(f.to_markdown() == open('expected.md').read())")
    (tmp_path / "expected.md").write_text(fidelity.to_markdown())
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert Path(out[0]).resolve().is_relative_to(tmp_path.resolve())
    assert out[1:3] == [str(len(fidelity.NOTES)), "True"]


def test_the_parser_reads_wrapped_paragraphs_and_rejects_a_misshapen_note():
    text = ("# title\n\nfree text, no note\n\n## a topic\n\nthe report says: —\n\nthe code does: one\n"
            "two  three\n\nwhy: because\n\nexperiments: deep, unet\n")
    assert fidelity.parse(text) == (fidelity.Note("a topic", "—", "one two three", "because", ("deep", "unet")),)
    for broken in (text.replace("\n\nwhy: because", ""), text.replace("why:", "reason:"),
                   text.replace("the code does: one", "why: one")):
        with pytest.raises(ValueError, match="a topic"):
            fidelity.parse(broken)


def test_no_pointers_to_documents_outside_the_repository():
    stray = re.compile(r"pitfall|the brief|the issue|issue \d|shared/", re.IGNORECASE)
    for path in (files("torchbearer_colorize.report").joinpath("fidelity.md"), Path(fidelity.__file__)):
        assert not stray.findall(path.read_text(encoding="utf-8")), path
