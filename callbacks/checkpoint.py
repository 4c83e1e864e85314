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
    when the Trial has more. Here each of the Trial's callbacks takes the next saved state of its own type and
    keeps its fresh state when there is none, so callbacks that a Trial adds or leaves out (``AcrossRanks``
    under torchrun, TensorBoard) do not stop a run from resuming: one interrupted on one process resumes
    on several, with or without ``--tensorboard``, and back."""
    saved = torch.load(path, map_location="cpu", weights_only=False)
    callbacks = saved.get(torchbearer.CALLBACK_LIST)
    if callbacks is not None:
        types, states = callbacks[CallbackList.CALLBACK_TYPES], callbacks[CallbackList.CALLBACK_STATES]
        own = trial.state[torchbearer.CALLBACK_LIST].state_dict()
        aligned, start = [], 0
        for own_type, own_state in zip(own[CallbackList.CALLBACK_TYPES], own[CallbackList.CALLBACK_STATES]):
            match = next((i for i in range(start, len(types)) if types[i] == own_type), None)
            if match is not None:
                own_state, start = states[match], match + 1
            aligned.append(own_state)
        callbacks[CallbackList.CALLBACK_TYPES] = own[CallbackList.CALLBACK_TYPES]
        callbacks[CallbackList.CALLBACK_STATES] = aligned
    trial.load_state_dict(saved)
    return trial
