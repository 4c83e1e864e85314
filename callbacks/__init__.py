"""torchbearer callbacks used by the experiments."""
from .across_ranks import AcrossRanks
from .kl_divergence import KL, LOGVAR, MU, KLDivergence, KLMetric, ReconstructionMetric, gaussian_kl
from .checkpoint import AtomicCheckpoint
from .divergence import StopOnNonFiniteLoss
from .epoch_log import EpochBar, EpochLog
from .epoch_seed import EpochSeed

__all__ = ["AcrossRanks", "AtomicCheckpoint", "EpochBar", "EpochLog", "EpochSeed", "KL", "KLDivergence", "KLMetric",
           "LOGVAR", "MU", "ReconstructionMetric", "StopOnNonFiniteLoss", "gaussian_kl"]
