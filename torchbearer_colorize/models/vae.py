"""The report's beta-VAE (``VAE_latent``) for 100 x 100 fruit images."""
import torch
from torch import nn
from torchbearer import state_key

from callbacks.kl_divergence import LOGVAR, MU

# What draws the reparameterization's noise, where torchbearer's state gives one (torchrun: this process's rows
# of the whole batch's noise, so several processes reproduce one process's numbers); else torch.randn_like.
NOISE = state_key("noise")

LATENT_SIZE = 5


class VAELatent(nn.Module):
    """The report's layers exactly as printed; the decode path it omits is upsample -> ReLU -> reshape
    64 x 25 x 25 -> decoder. Shapes: 100 -> 101 -> 50 -> 25 in the encoder, 25 -> 50 -> 101 -> 100 back.

    ``forward(x, state)`` stores ``mu`` and ``logvar`` in torchbearer's state and returns only the
    reconstruction, so the Trial's criterion sees a tensor and the ``KLDivergence`` callback adds the KL.
    """

    noise_key = NOISE

    def __init__(self, latent_size=LATENT_SIZE):
        super().__init__()
        self.latent_size = latent_size
        self.encoder = nn.Sequential(nn.Conv2d(3, 32, 4, 1, 2), nn.ReLU(True),
                                     nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU(True),
                                     nn.Conv2d(32, 64, 4, 2, 1))
        self.mu = nn.Linear(64 * 25 * 25, latent_size)
        self.logvar = nn.Linear(64 * 25 * 25, latent_size)
        self.upsample = nn.Linear(latent_size, 64 * 25 * 25)
        self.decoder = nn.Sequential(nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(True),
                                     nn.ConvTranspose2d(32, 32, 4, 2, 1, 1), nn.ReLU(True),
                                     nn.ConvTranspose2d(32, 3, 4, 1, 2))

    def encode(self, x):
        # flatten, not the report's .view: .view fails on channels-last tensors
        h = self.encoder(x).relu().flatten(1)
        return self.mu(h), self.logvar(h)

    def reparameterize(self, mu, logvar, draw_noise=torch.randn_like):
        if self.training:
            return mu + draw_noise(mu) * torch.exp(0.5 * logvar)
        return mu

    def decode(self, z):
        return self.decoder(self.upsample(z).relu().reshape(-1, 64, 25, 25))

    def forward(self, x, state=None):
        mu, logvar = self.encode(x)
        if state is None:
            return self.decode(self.reparameterize(mu, logvar))
        state[MU], state[LOGVAR] = mu, logvar
        return self.decode(self.reparameterize(mu, logvar, state.get(NOISE, torch.randn_like)))
