"""The training core: one run = one torchbearer Trial (:mod:`.trial`) + the run store (:mod:`.runs`);
:mod:`.experiment` turns a report table's runs into its outputs; :mod:`.cli` holds the shared options."""
from .runs import run_dir, run_settings, train
from .store import load_model
from .trial import RunSpec, TaskData, build_trial

__all__ = ["RunSpec", "TaskData", "build_trial", "load_model", "run_dir", "run_settings", "train"]
