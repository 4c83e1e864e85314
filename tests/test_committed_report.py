"""figures/ is what the committed run store gives: regenerated on a copy of runs/ without training, every
table and page exactly (REPORT.md but its line that says when and how it was generated) and every PNG the
same picture (pixels within figures.same_picture's tolerance, since another CPU rounds a few model outputs
differently). The first seed's figures (those on the page) are drawn anew from the runs; the other seeds' are
kept where their key (figures.figure_key: the model's weights, the data, the numbers and titles drawn) is what
the runs give, and drawn anew and compared where it is not. A hand edit of a table or a first-seed figure, a
stale figure or a run missing from the store fails here."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from torchbearer_colorize.report.figures import same_picture

ROOT = Path(__file__).resolve().parents[1]
GENERATED = "Generated "  # the one line of REPORT.md that names the command and the date


def files(folder):
    return {path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.slow
def test_committed_figures_are_what_the_committed_runs_give(tmp_path):
    if not (ROOT / "runs").is_dir():
        pytest.skip("no committed run store in this checkout")
    shutil.copytree(ROOT / "runs", tmp_path / "runs", ignore=shutil.ignore_patterns("quick", "checkpoint.pt", ".lock"))
    # the other seeds' figures (in seed<N>/ folders) as committed, the first seed's left to be drawn
    shutil.copytree(ROOT / "figures", tmp_path / "figures",
                    ignore=lambda folder, names: [] if Path(folder).name.startswith("seed") else
                    [name for name in names if name.endswith(".png")])
    # --no-pretrained: the committed inception runs' random frozen encoder, and no download of ImageNet weights
    done = subprocess.run([sys.executable, "-m", "experiments.report", "--no-pretrained", "--verbose", "0",
                           "--runs-dir", str(tmp_path / "runs"), "--cache-dir", str(tmp_path / "cache"),
                           "--out", str(tmp_path / "figures")], cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "] 0 run(s) trained" in done.stdout  # everything came from the store
    committed, regenerated = files(ROOT / "figures"), files(tmp_path / "figures")
    assert sorted(committed) == sorted(regenerated)
    for name, path in committed.items():
        if name == "REPORT.md":
            ours, theirs = (p.read_text().splitlines() for p in (path, regenerated[name]))
            assert [line for line in ours if not line.startswith(GENERATED)] == \
                [line for line in theirs if not line.startswith(GENERATED)]
        elif name.endswith(".png"):
            assert same_picture(path.read_bytes(), regenerated[name].read_bytes()), \
                f"figures/{name} is not the picture runs/ gives"
        else:
            assert path.read_bytes() == regenerated[name].read_bytes(), f"figures/{name} is not what runs/ gives"
