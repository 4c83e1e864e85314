"""Stop a run at a non-finite loss: it is then recorded as diverged."""
import torch
import torchbearer
from torchbearer.callbacks import Callback

SYNC_EVERY = 10  # torchbearer's running metrics read their value back every 10 steps (step_size=10)


class StopOnNonFiniteLoss(Callback):
    """Stop training at a NaN or infinite batch loss; the run is then recorded as diverged. (torchbearer's
    ``TerminateOnNaN`` watches ``running_loss``, which exists only after its first window of steps.)

    On the CPU every step is checked. On an accelerator, where reading the loss back waits for the device,
    the check stays on the device and is read every ``every`` steps (default: when torchbearer's running
    metrics read theirs anyway) and at the end of each training pass: no synchronisation of its own.
    """

    def __init__(self, every=None):
        self.every = every
        self._bad = None  # on the device: whether a loss since the last check was not finite

    def on_start_training(self, state):
        self._bad = None

    def on_step_training(self, state):
        loss = state[torchbearer.LOSS].detach()
        bad = ~torch.isfinite(loss).all()
        self._bad = bad if self._bad is None else self._bad | bad
        every = self.every or (1 if loss.device.type == "cpu" else SYNC_EVERY)
        if (state[torchbearer.BATCH] + 1) % every == 0:
            self._check(state)

    def on_end_training(self, state):
        self._check(state)

    def _check(self, state):
        if self._bad is not None and bool(self._bad):
            print(f"\nloss became {state[torchbearer.LOSS].item()} by epoch {state[torchbearer.EPOCH] + 1}, "
                  f"batch {state[torchbearer.BATCH] + 1}: stopping this run as diverged")
            state[torchbearer.STOP_TRAINING] = True
        self._bad = None
