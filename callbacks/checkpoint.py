"""Checkpoint the whole Trial atomically after every epoch, and load such a checkpoint back safely."""
import contextlib
import importlib
import os
import pickle
import re
from pathlib import Path

import torch
import torchbearer
from torchbearer.callbacks import Callback, CallbackList, CSVLogger
from torchbearer.state import StateKey

# Checkpoints written before these callbacks had modules of their own name their classes in callbacks.run_store
FORMERLY = "callbacks.run_store"


class AtomicCheckpoint(Callback):
    """Save the whole Trial (model, optimizer, history) after every epoch via a temporary file, so a kill
    mid-write leaves the old checkpoint (torchbearer's checkpointers write in place). ``enabled=False``
    (ranks other than 0) keeps it in the callback list, which is part of the checkpoint, but writes nothing."""

    def __init__(self, path, enabled=True):
        self.path, self.enabled = Path(path), enabled

    def on_checkpoint(self, state):
        if not self.enabled:
            return
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        torch.save(state[torchbearer.SELF].state_dict(), tmp)
        os.replace(tmp, self.path)


class CheckpointRefused(Exception):
    """A checkpoint that holds more than tensors, plain data and the allowed classes; ``what`` says what."""

    def __init__(self, path, what):
        super().__init__(f"{path} holds {what}, which is not allowed in a checkpoint")
        self.path, self.what = path, what


def load_checkpoint(trial, path, allowed=()):
    """Restore ``trial`` from ``path`` with torch's ``weights_only`` loader, allowing only tensors, plain data,
    torchbearer's ``StateKey``, the classes of ``trial``'s and this package's callbacks and ``allowed``;
    anything else (a file that would run code when loaded) raises :class:`CheckpointRefused` (on torch<2.4,
    which has no allowlist, every checkpoint).

    torchbearer matches saved callbacks to the Trial's in order and fails when the Trial has more. Here each
    of the Trial's callbacks takes the next saved state of its own type, or keeps its fresh one, so a run
    resumes with callbacks added or left out (``AcrossRanks`` under torchrun, ``--tensorboard``)."""
    own = trial.state[torchbearer.CALLBACK_LIST].state_dict()
    own_types, own_states = own[CallbackList.CALLBACK_TYPES], own[CallbackList.CALLBACK_STATES]
    package = vars(importlib.import_module(__package__)).values()
    ours = [value for value in package if isinstance(value, type) and issubclass(value, Callback)]
    formerly = [(value, f"{FORMERLY}.{value.__name__}") for value in ours]  # an interrupted run's older checkpoint
    formerly.append(CSVLogger)  # which logged epochs before EpochLog did
    try:
        with _allowing([StateKey, *own_types, *ours, *formerly, *allowed]):
            saved = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.search(r"(?:GLOBAL|class) ([\w.]+)", str(err))
        what = f"the global {found.group(1)}" if found else f"something else ({str(err).splitlines()[-1]})"
        if not hasattr(torch.serialization, "add_safe_globals"):
            what += f" (torch {torch.__version__} cannot allowlist torchbearer's state keys; torch>=2.4 can)"
        raise CheckpointRefused(path, what) from None
    callbacks = saved.get(torchbearer.CALLBACK_LIST)
    if callbacks is not None:
        types, states = callbacks[CallbackList.CALLBACK_TYPES], callbacks[CallbackList.CALLBACK_STATES]
        aligned, start = [], 0
        for own_type, own_state in zip(own_types, own_states):
            match = next((i for i in range(start, len(types)) if types[i] == own_type), None)
            if match is not None:
                own_state, start = states[match], match + 1
            aligned.append(own_state)
        callbacks[CallbackList.CALLBACK_TYPES] = own_types
        callbacks[CallbackList.CALLBACK_STATES] = aligned
    trial.load_state_dict(saved)
    return trial


def _allowing(classes):
    """torch's allowlist for ``weights_only`` loads: a context on torch>=2.5, process-wide on 2.4, none before."""
    if hasattr(torch.serialization, "safe_globals"):
        return torch.serialization.safe_globals(classes)
    if hasattr(torch.serialization, "add_safe_globals"):
        torch.serialization.add_safe_globals(classes)
    return contextlib.nullcontext()
