"""torchbearer callbacks used by the experiments."""
from .checkpoint import AtomicCheckpoint
from .divergence import StopOnNonFiniteLoss
from .epoch_seed import EpochSeed

__all__ = ["AtomicCheckpoint", "EpochSeed", "StopOnNonFiniteLoss"]
