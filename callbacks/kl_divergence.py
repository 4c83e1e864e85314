import torch
import torchbearer
from torchbearer import metrics, state_key
from torchbearer.callbacks import Callback

MU = state_key("mu")
LOGVAR = state_key("logvar")
KL = state_key("kl")
RECONSTRUCTION = state_key("reconstruction")


def gaussian_kl(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) in closed form, summed over latent dimensions and the batch."""
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


class KLDivergence(Callback):
    """Adds ``beta * KL(q(z|x) || N(0, I))`` to the Trial's loss, in training and validation alike, from the
    ``mu`` and ``logvar`` the model's ``forward(x, state)`` stored (torchbearer's own VAE idiom). The
    criterion's value is kept under ``RECONSTRUCTION`` and the KL under ``KL``, for the metrics below.
    """

    loss_terms = (KL, RECONSTRUCTION)  # the state keys of the terms it records (torchrun averages them over ranks)

    def __init__(self, beta=1.0, mu_key=MU, logvar_key=LOGVAR):
        self.beta, self.mu_key, self.logvar_key = beta, mu_key, logvar_key

    def on_criterion(self, state):
        kl = gaussian_kl(state[self.mu_key], state[self.logvar_key])
        state[RECONSTRUCTION] = state[torchbearer.LOSS].detach()
        state[KL] = kl.detach()
        state[torchbearer.LOSS] = state[torchbearer.LOSS] + self.beta * kl

    on_criterion_validation = on_criterion


@metrics.running_mean
@metrics.mean
class KLMetric(metrics.Metric):
    """The batch KL term (before beta), averaged over the epoch like torchbearer's ``loss``."""

    def __init__(self):
        super().__init__("kl")

    def process(self, state):
        return state[KL]


@metrics.running_mean
@metrics.mean
class ReconstructionMetric(metrics.Metric):
    """The criterion's value alone (the reconstruction term), averaged over the epoch."""

    def __init__(self):
        super().__init__("reconstruction")

    def process(self, state):
        return state[RECONSTRUCTION]
