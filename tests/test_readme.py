"""The README and docs/: every docs page is linked, every link resolves, the results are the committed report's.

Fast: reads files only (no subprocess, no training)."""
import ast
import configparser
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)


def links(path):
    """The targets of the markdown links in ``path``, code blocks and inline code left out."""
    return LINK.findall(CODE.sub("", path.read_text(encoding="utf-8")))


def relative(target):
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) and not target.startswith("#")


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


def test_the_quick_start_says_how_long_and_how_big_as_measured():
    """The times are the committed runs' (2 CPU cores), rounded, of the seed that trained fastest (the others
    shared the cores with other jobs): its sweep's four runs, and every run that each seed has (colour
    classification trains at the first seed only); the size is the pinned CUDA wheels'."""
    readme = README.read_text(encoding="utf-8")
    start = readme.split("## Quick start", 1)[1].split("\n## Experiments", 1)[0]
    results = [json.loads(path.read_text()) for path in (ROOT / "runs").glob("*/result.json")]
    seeds = sorted({r["settings"]["seed"] for r in results})

    def same_run(r):
        return json.dumps({k: v for k, v in r["settings"].items() if k != "seed"}, sort_keys=True)
    every_seed = {run for run in map(same_run, results)
                  if {r["settings"]["seed"] for r in results if same_run(r) == run} == set(seeds)}
    seconds = {seed: sum(r["seconds"] for r in results if r["settings"]["seed"] == seed and same_run(r) in every_seed)
               for seed in seeds}
    fastest = min(seconds, key=seconds.get)
    sweep = sum(r["seconds"] for r in results if r["settings"]["seed"] == fastest and r["settings"]["model"] == "small"
                and r["settings"]["optimizer"] == "adam" and r["settings"]["task"] == "colorize") / 60
    total = seconds[fastest] / 60
    said = [int(minutes) for minutes in re.findall(r"about (\d+) min", start)]
    assert len(said) == 2 and abs(said[0] - sweep) <= 3 and abs(said[1] - total) <= 10, (said, sweep, total)
    assert "about 6 GB" in start and "download.pytorch.org/whl/cpu" in start
    for module in ("report", "lr_sweep"):  # their --help says it too
        doc = ast.get_docstring(ast.parse((ROOT / "experiments" / f"{module}.py").read_text(encoding="utf-8")))
        assert f"about {said[1] if module == 'report' else said[0]} min" in doc, module


def test_the_python_the_readme_names_is_the_one_required_and_tested():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    least = config["options"]["python_requires"].removeprefix(">=")
    tested = re.search(r"python (\d+\.\d+\.\d+)", (ROOT / "figures" / "REPORT.md").read_text()).group(1)
    assert f"Needs Python {least} or newer (tests run on {tested} only" in README.read_text(encoding="utf-8")
    assert tested.startswith(least + ".") and sys.version_info >= tuple(map(int, least.split(".")))
    assert f"sys.version_info < ({least.replace('.', ', ')})" in (ROOT / "dev.py").read_text()  # dev.py says so
