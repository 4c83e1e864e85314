"""The walkthrough notebook runs top to bottom (QUICK, outputs in a temporary folder, MPLBACKEND=Agg) with a
Jupyter kernel, as on Colab or Kaggle; its .ipynb is what jupytext makes of the reviewable .py source."""
import json
from pathlib import Path

import pytest

from tests.conftest import QUICK_SMALL

ROOT = Path(__file__).resolve().parents[1]
SOURCE, NOTEBOOK = ROOT / "notebooks" / "walkthrough.py", ROOT / "notebooks" / "walkthrough.ipynb"
REGENERATE = "python -m jupytext --to ipynb notebooks/walkthrough.py"


def test_the_ipynb_is_the_py_source_without_outputs():
    jupytext = pytest.importorskip("jupytext")
    made = jupytext.reads(SOURCE.read_text(encoding="utf-8"), fmt="py:percent")
    committed = jupytext.read(NOTEBOOK)
    sources = [(cell.cell_type, cell.source) for cell in made.cells]
    assert [(cell.cell_type, cell.source) for cell in committed.cells] == sources, f"stale: run {REGENERATE}"
    assert all(not cell.get("outputs") for cell in committed.cells)  # outputs stay out of git
    assert any("parameters" in cell.metadata.get("tags", []) for cell in committed.cells)


def test_the_notebook_tells_a_new_user_only_true_things():
    source = SOURCE.read_text(encoding="utf-8")
    assert "URL>" not in source and "REPO_URL" in source  # no placeholder: the user's clone address, named
    # the epoch's train loss is torchbearer's "loss" (the mean over its batches), not "running_loss" (the last few)
    assert "train loss {logs['loss']" in source and "logs['running_loss']" not in source


def test_the_notebook_opens_on_the_report_over_its_committed_seeds():
    """As it stands it reuses the committed runs (the test below sets QUICK itself), shows its figures as PNGs
    whatever matplotlib's backend (report.figures selects Agg), and checks the report's conclusions over
    experiments.report's seeds, as REPORT.md does."""
    source = SOURCE.read_text(encoding="utf-8")
    assert "\nQUICK = False  #" in source and "plt.show()" not in source and "show(fig)" in source
    assert "SEEDS = report.SEEDS[:1] if QUICK else report.SEEDS" in source
    assert "collect(results)" in source and "{0: runs}" not in source  # every seed's results, not seed 0's


@pytest.mark.slow
def test_the_notebook_runs_top_to_bottom_in_quick_mode(tmp_path, monkeypatch):
    nbclient, nbformat = pytest.importorskip("nbclient"), pytest.importorskip("nbformat")
    monkeypatch.setenv("TORCHBEARER_COLORIZE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MPLBACKEND", "Agg")  # as headless servers set it: the notebook's figures show all the same
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    parameters = next(cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", []))
    parameters.source += f"\nQUICK = True\nRUNS_DIR = {str(tmp_path / 'runs')!r}\nOUT = {str(tmp_path / 'out')!r}\n"
    # the experiments' --quick at 2 images a split in batches of 2 (not 8 in 4), as tests.conftest.small_quick
    # does in-process: the notebook's flow is what is checked here, not its numbers. Set once the setup cell has
    # put the repository first on sys.path, so that this checkout's package is the one changed (and used).
    setup = next(cell for cell in notebook.cells if "sys.path.insert(0, str(ROOT))" in cell.source)
    setup.source += ("\nimport torchbearer_colorize.training.cli as quick_options\n"
                     f"quick_options.QUICK_IMAGES = quick_options.QUICK_BATCH = {QUICK_SMALL}\n")
    nbclient.NotebookClient(notebook, timeout=600, startup_timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    images = sum("image/png" in o.get("data", {}) for o in outputs)
    assert images >= 8  # data, the Trial's predictions, the sweep, the U-net, the VAE's three figures
    text = json.dumps([o.get("data", {}).get("text/markdown", "") for o in outputs])
    assert "| the report concludes |" in text and ("**agrees" in text or "**disagrees" in text)
    for name in ("lr_sweep", "unet", "vae_fruits"):  # the experiments wrote where they were told
        assert (tmp_path / "out" / name / "table.md").exists()
    assert any((tmp_path / "runs").glob("*/model.pt"))  # and trained into the store they were given
