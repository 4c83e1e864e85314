import torch
import torchbearer

from callbacks import StopOnNonFiniteLoss


def steps(callback, losses):
    """Feed ``losses`` to ``callback`` as one training pass; the 1-based step at which it stopped."""
    state = {torchbearer.EPOCH: 0, torchbearer.STOP_TRAINING: False}
    callback.on_start_training(state)
    for i, loss in enumerate(losses):
        state[torchbearer.BATCH], state[torchbearer.LOSS] = i, torch.tensor(loss)
        callback.on_step_training(state)
        if state[torchbearer.STOP_TRAINING]:
            return i + 1
    callback.on_end_training(state)
    return "end" if state[torchbearer.STOP_TRAINING] else None


def test_a_cpu_loss_is_checked_every_step():
    assert steps(StopOnNonFiniteLoss(), [1.0, 2.0, float("nan"), 1.0]) == 3
    assert steps(StopOnNonFiniteLoss(), [1.0, float("inf")]) == 2
    assert steps(StopOnNonFiniteLoss(), [1.0, 2.0, 3.0]) is None


def test_with_fewer_checks_a_non_finite_loss_is_caught_at_the_next_check_or_the_pass_end():
    assert steps(StopOnNonFiniteLoss(every=3), [1.0, float("nan"), 1.0, 1.0]) == 3  # a NaN between checks is remembered
    assert steps(StopOnNonFiniteLoss(every=3), [1.0, 1.0, 1.0, float("nan")]) == "end"
    callback = StopOnNonFiniteLoss(every=3)
    assert steps(callback, [float("nan")]) == "end"
    assert steps(callback, [1.0, 1.0, 1.0, 1.0]) is None  # a new pass starts clean
