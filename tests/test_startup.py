"""A new user's first commands answer at once: every experiment reads its options before it imports torch (tens
of seconds on a first start), so ``--help`` and a mistyped option take about a second; ``--help`` says how long
the experiment takes. Each test starts a Python process: a fraction of a second while torch stays out."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = sorted(p.stem for p in (ROOT / "experiments").glob("*.py") if p.stem != "__init__")
# Runs the module named first as `python -m` does, with the rest as its options, then says whether torch came in
PROBE = """
import runpy, sys
module = sys.argv.pop(1)
try:
    runpy.run_module(module, run_name="__main__", alter_sys=True)
finally:
    print("torch imported:", "torch" in sys.modules)
"""


def probe(experiment, *argv):
    return subprocess.run([sys.executable, "-c", PROBE, f"experiments.{experiment}", *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_every_experiment_is_probed():
    assert {"lr_sweep", "report", "bench", "vae_fruits"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_help_answers_without_torch_and_gives_the_time(experiment):
    done = probe(experiment, "--help")
    assert done.returncode == 0, done.stderr
    assert "torch imported: False" in done.stdout, done.stdout
    assert f"python -m experiments.{experiment}" in done.stdout
    assert "on 2 CPU cores: about" in done.stdout, done.stdout


@pytest.mark.parametrize("experiment", ["lr_sweep", "vae_fruits", "report", "bench"])
def test_a_mistyped_option_answers_without_torch(experiment):
    done = probe(experiment, "--devcie", "cpu")
    assert done.returncode == 2
    assert "unrecognized arguments: --devcie" in done.stderr
    assert "torch imported: False" in done.stdout


def test_dev_py_run_of_an_unknown_experiment_lists_the_experiments(monkeypatch, capsys):
    import dev
    monkeypatch.setattr(dev, "setup", lambda: pytest.fail("set up a .venv for an experiment that does not exist"))
    assert dev.experiments() == EXPERIMENTS
    with pytest.raises(SystemExit) as exit_:
        dev.main(["run", "nosuch", "--quick"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "no experiment 'nosuch'" in err and ", ".join(EXPERIMENTS) in err
