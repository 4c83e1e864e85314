"""The training core: one run = one torchbearer Trial, built by its experiment module, + the run store
(:mod:`.runs`); :mod:`.experiment` turns a report table's runs into its outputs; :mod:`.cli` holds the shared
options; :mod:`.devices` the ``--devices`` workers."""
from .runs import Run, RunSpec, TaskData, make_trial, run_dir, run_settings, train
from .store import load_model

__all__ = ["Run", "RunSpec", "TaskData", "load_model", "make_trial", "run_dir", "run_settings", "train"]
