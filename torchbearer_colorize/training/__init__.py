"""The training core: one run = one torchbearer Trial, built by its experiment module, + the run store
(:mod:`.runs`); :mod:`.experiment` turns a report table's runs into its outputs; :mod:`.cli` holds the shared
options; :mod:`.devices` the ``--devices`` workers.

The names below are imported when first used, so ``python -m torchbearer_colorize.training.store`` runs the
store's module once (imported here already, runpy would warn and run a second copy)."""
import importlib

_HOMES = {"Run": "runs", "RunSpec": "runs", "TaskData": "runs", "make_trial": "runs", "run_dir": "runs",
          "run_settings": "runs", "train": "runs", "load_model": "store"}
__all__ = sorted(_HOMES)


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
