import math

import torchbearer
from torchbearer.callbacks import Callback


class StopOnNonFiniteLoss(Callback):
    """Stop training at the first NaN or infinite batch loss; the run is then recorded as diverged.

    torchbearer's ``TerminateOnNaN`` watches ``running_loss``, which exists only after its first
    window of steps, so it warns on every early step; this reads the loss itself.
    """

    def on_step_training(self, state):
        if not math.isfinite(state[torchbearer.LOSS].item()):
            print(f"\nloss became {state[torchbearer.LOSS].item()} at epoch {state[torchbearer.EPOCH] + 1}, "
                  f"batch {state[torchbearer.BATCH] + 1}: stopping this run as diverged")
            state[torchbearer.STOP_TRAINING] = True
