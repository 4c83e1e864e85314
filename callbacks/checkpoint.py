import os
from pathlib import Path

import torch
import torchbearer
from torchbearer.callbacks import Callback, CallbackList


class AtomicCheckpoint(Callback):
    """Save the whole Trial (model, optimizer, history) after every epoch, via a temporary file.

    torchbearer's own checkpointers write in place, so a kill mid-write leaves a truncated file;
    here the old checkpoint stays until the new one is complete. ``enabled=False`` (the ranks other
    than 0 under torchrun) keeps it in the callback list, which is part of the checkpoint, but writes nothing.
    """

    def __init__(self, path, enabled=True):
        self.path, self.enabled = Path(path), enabled

    def on_checkpoint(self, state):
        if not self.enabled:
            return
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        torch.save(state[torchbearer.SELF].state_dict(), tmp)
        os.replace(tmp, self.path)


def load_checkpoint(trial, path):
    """Restore ``trial`` from ``path``. The file holds torchbearer state keys, which torch>=2.6's
    ``weights_only`` loader refuses; it is always one this package wrote itself.

    torchbearer matches saved callbacks to the Trial's in order and fails (a bare ``StopIteration``)
    when the Trial has more. A Trial that only appends callbacks to the saved list (the ``AcrossRanks``
    one under torchrun) keeps their fresh state, so a run interrupted on one process resumes on
    several, and back (extra saved ones are ignored)."""
    saved = torch.load(path, map_location="cpu", weights_only=False)
    callbacks = saved.get(torchbearer.CALLBACK_LIST)
    if callbacks is not None:
        types, states = callbacks[CallbackList.CALLBACK_TYPES], callbacks[CallbackList.CALLBACK_STATES]
        own = trial.state[torchbearer.CALLBACK_LIST].state_dict()
        own_types, own_states = own[CallbackList.CALLBACK_TYPES], own[CallbackList.CALLBACK_STATES]
        if len(types) < len(own_types) and own_types[:len(types)] == types:
            callbacks[CallbackList.CALLBACK_TYPES] = types + own_types[len(types):]
            callbacks[CallbackList.CALLBACK_STATES] = states + own_states[len(types):]
    trial.load_state_dict(saved)
    return trial
