"""The training core: one run = one torchbearer Trial (:mod:`.trial`) + the run store (:mod:`.runs`)."""
from .runs import RunSpec, TaskData, build_trial, load_model, run_dir, run_settings, train

__all__ = ["RunSpec", "TaskData", "build_trial", "load_model", "run_dir", "run_settings", "train"]
