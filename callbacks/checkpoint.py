import torch
import torchbearer
from torchbearer.callbacks import Callback

from torchbearer_colorize.atomic import atomic_path


class AtomicCheckpoint(Callback):
    """Save the whole Trial (model, optimizer, history) after every epoch, via a temporary file.

    torchbearer's own checkpointers write in place, so a kill mid-write leaves a truncated file;
    here the old checkpoint stays until the new one is complete.
    """

    def __init__(self, path):
        self.path = path

    def on_checkpoint(self, state):
        with atomic_path(self.path) as tmp:
            torch.save(state[torchbearer.SELF].state_dict(), tmp)


def load_checkpoint(trial, path):
    """Restore ``trial`` from ``path``. The file holds torchbearer state keys, which torch>=2.6's
    ``weights_only`` loader refuses; it is always one this package wrote itself."""
    trial.load_state_dict(torch.load(path, map_location="cpu", weights_only=False))
    return trial
