"""The README and docs/: every docs page is linked, every link resolves, the results are the committed report's.

Fast: reads files only (no subprocess, no training)."""
import ast
import configparser
import json
import math
import re
import sys
from pathlib import Path

import pytest

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
    """The times are the committed runs' (2 CPU cores), each run at the seed that trained it fastest (load only
    slows a run down): the sweep's four runs, and every run that each seed has; the size is the pinned CUDA
    wheels'."""
    readme = README.read_text(encoding="utf-8")
    start = readme.split("## Quick start", 1)[1].split("\n## Experiments", 1)[0]
    said = re.findall(r"about (\d+) min", start)
    seed = stored_minutes(lambda s: True)
    assert len(said) == 2 and close(said[0], stored_minutes(TRAINS["lr_sweep"])) and close(said[1], seed), said
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


# the stored runs each experiment trains, by their settings; "reused": the one the lr sweep stores for it
TRAINS = {
    "lr_sweep": lambda s: s["task"] == "colorize" and s["model"] == "small" and s["optimizer"] == "adam",
    "optimizers": lambda s: s["task"] == "colorize" and s["model"] == "small" and s["lr"] == 0.001,
    "deep": lambda s: s["model"] == "deep",
    "inception": lambda s: s["model"] == "inception_decoder",
    "unet": lambda s: s["model"] == "unet",
    "denoise": lambda s: s["task"] == "denoise",
    "vae_fruits": lambda s: s["model"] == "vae",
    "color_classes": lambda s: s["task"] == "color-classes" or (s["task"] == "colorize" and s["model"] == "small"
                                                               and s["optimizer"] == "adam" and s["lr"] == 0.001),
}


def sweep_run(s):
    return s["task"] == "colorize" and s["model"] == "small" and s["optimizer"] == "adam" and s["lr"] == 0.001


def stored_minutes(trains, leave_out=lambda s: False, autocast=None):
    """Minutes of training of the committed runs that ``trains`` picks (by their settings), each at the seed that
    trained it fastest (the seeds' other runs shared the cores with other jobs); fp32 runs only, or with
    ``autocast="bf16"`` the ``--bf16`` ones (the times --help states for each)."""
    fastest = {}
    for path in (ROOT / "runs").glob("*/result.json"):
        result = json.loads(path.read_text())
        settings = result["settings"]
        if trains(settings) and not leave_out(settings) and settings.get("autocast") == autocast:
            # a run's data key holds the seed of a random encoder
            run = json.dumps({k: v for k, v in settings.items() if k not in ("seed", "data")}, sort_keys=True)
            fastest[run] = min(fastest.get(run, math.inf), result["seconds"])
    return sum(fastest.values()) / 60


def close(said, minutes):
    return abs(float(said) - minutes) <= max(1, 0.15 * minutes)


@pytest.mark.parametrize("module", sorted(TRAINS))
def test_every_experiments_help_says_how_long_its_stored_runs_trained(module):
    doc = ast.get_docstring(ast.parse((ROOT / "experiments" / f"{module}.py").read_text(encoding="utf-8")))
    time = re.search(r"Time at the report's settings on 2 CPU cores: (.*?)\n\n", doc + "\n\n", re.S).group(1)
    numbers = re.findall(r"(\d+(?:\.\d+)?) min", time)
    minutes = stored_minutes(TRAINS[module])
    if module == "inception":  # the whole, then the decoder's training, then the features (not a stored run)
        assert close(numbers[1], minutes) and "training the decoder" in time, (time, minutes)
    else:
        assert close(numbers[0], minutes), (time, minutes)
    if "reused" in time:
        assert close(numbers[1], stored_minutes(TRAINS[module], leave_out=sweep_run)), time


def test_the_notebook_says_how_long_retraining_its_experiments_takes():
    text = (ROOT / "notebooks" / "walkthrough.py").read_text(encoding="utf-8")
    said = re.search(r"takes about (\d+) minutes on 2 CPU cores: the sweep (\d+), the U-net (\d+), the beta-VAE (\d+)",
                     text.replace("\n# ", " "))
    parts = [stored_minutes(TRAINS[name]) for name in ("lr_sweep", "unet", "vae_fruits")]
    assert said and close(said.group(1), sum(parts)), (said, parts)
    assert all(close(number, minutes) for number, minutes in zip(said.groups()[1:], parts)), (said.groups(), parts)


def test_the_readme_is_one_page():
    """At most 10,000 characters: the details are in docs/, linked."""
    length = len(README.read_text(encoding="utf-8"))
    assert length <= 10_000, f"README.md is {length} characters: move details to docs/ and link them"


def test_the_experiments_table_says_the_epochs_that_run():
    """Each row's epochs are those of the committed runs its command trains (the report's 5 and 10 epochs are
    20 and 40 here, in optimizer steps), not the report's own count."""
    readme = README.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `experiments\.(\w+)` \|.*?(\d+) epochs[^|]*\|$", readme, re.M))
    assert set(rows) >= set(TRAINS) - {"color_classes"}, rows
    for module, said in rows.items():
        settings = [json.loads(path.read_text())["settings"] for path in (ROOT / "runs").glob("*/result.json")]
        epochs = {s["epochs"] for s in settings if TRAINS[module](s)}
        assert epochs == {int(said)}, (module, said, epochs)


def test_training_on_your_own_paintings_says_its_time_per_100_images_as_measured():
    """The small colorizer's committed lr 0.001 run, at the seed that trained it fastest, per 100 training images."""
    section = README.read_text(encoding="utf-8").split("## Train on your own paintings", 1)[1].split("\n## ", 1)[0]
    said = re.search(r"about (\d+) s per 100 training images.*?(\d+) s for (\d+),", section.replace("\n", " "))
    results = [json.loads(path.read_text()) for path in (ROOT / "runs").glob("*/result.json")]
    fastest = min((r for r in results if sweep_run(r["settings"])), key=lambda r: r["seconds"])
    assert said and int(said.group(3)) == fastest["n_train"] and abs(int(said.group(2)) - fastest["seconds"]) < 1
    per_100 = fastest["seconds"] / fastest["n_train"] * 100
    assert abs(int(said.group(1)) - per_100) < 1, (said.groups(), per_100)
    for part in ("--data-root", "80 / 20", "seed 0", "any depth", "figures/lr_sweep/table.md"):
        assert part in section, part


def test_the_bundled_colorizer_is_the_one_the_committed_page_finds_best():
    """figures/REPORT.md computes which colorizer's colour alone scores best and says whether tbc-colorize bundles
    it: the bundled model must be that one (export the page's choice when another run wins)."""
    report = (ROOT / "figures" / "REPORT.md").read_text(encoding="utf-8")
    assert "`tbc-colorize` bundles its seed-0 model." in report
