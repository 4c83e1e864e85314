"""The README is one page; the details live in docs/, and every link between them resolves.

Fast: reads files only (no subprocess, no training)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
MAX_README_CHARS = 10_000

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)


def links(path):
    """The targets of the markdown links in ``path``, code blocks and inline code left out."""
    return LINK.findall(CODE.sub("", path.read_text(encoding="utf-8")))


def relative(target):
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) and not target.startswith("#")


def test_readme_is_one_page():
    chars = len(README.read_text(encoding="utf-8"))
    assert chars <= MAX_README_CHARS, f"README.md has {chars} characters, more than {MAX_README_CHARS}: move details to docs/"


def test_every_docs_page_is_linked_from_the_readme_and_exists():
    linked = {(ROOT / target.split("#", 1)[0]).resolve() for target in links(README) if relative(target)}
    readme_docs = {path for path in linked if path.parent == (ROOT / "docs").resolve()}
    assert readme_docs, "the README links no docs/ page"
    missing = sorted(str(path.relative_to(ROOT)) for path in readme_docs if not path.is_file())
    assert not missing, f"README.md links docs pages that do not exist: {missing}"
    unlinked = sorted(path.name for path in DOCS if path.resolve() not in linked)
    assert not unlinked, f"docs pages the README does not link: {unlinked}"


def test_every_relative_link_resolves_to_a_file_in_the_repository():
    broken = []
    for page in [README, *DOCS]:
        for target in links(page):
            if not relative(target):
                continue
            path = (page.parent / target.split("#", 1)[0]).resolve()
            if not path.is_relative_to(ROOT) or not path.is_file():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, f"links that resolve to no file in the repository: {broken}"


def test_readme_results_are_the_committed_reports_conclusions_and_headline():
    """The README's results are REPORT.md's conclusion lines and headline table, copied by
    ``experiments.report`` (``page.sync_readme``), not typed: same lines, same numbers."""
    import pytest
    from torchbearer_colorize.report.page import README_END, README_START, readme_block
    report = (ROOT / "figures" / "REPORT.md").read_text(encoding="utf-8")
    block = readme_block(report)
    if block is None:
        pytest.skip("figures/REPORT.md predates the page with 'What we found': regenerate it "
                    "(python -m experiments.report), which copies its results into the README")
    readme = README.read_text(encoding="utf-8")
    assert readme.split(README_START, 1)[1].split(README_END, 1)[0] == "\n" + block
