import pytest
import torch
from torch import nn
from torchbearer import Trial

from callbacks import LOGVAR, MU, KLDivergence, KLMetric, ReconstructionMetric, gaussian_kl
from torchbearer_colorize.models import VAELatent


def test_vae_shapes_100_to_25_to_100():
    model = VAELatent()
    x = torch.rand(2, 3, 100, 100)
    assert model.encoder(x).shape == (2, 64, 25, 25)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (2, 5)
    state = {}
    assert model.eval()(x, state).shape == (2, 3, 100, 100)
    assert torch.equal(state[MU], mu) and torch.equal(state[LOGVAR], logvar)


def test_reparameterize_samples_in_training_and_returns_mu_in_eval():
    model = VAELatent()
    mu, logvar = torch.zeros(3, 5), torch.zeros(3, 5)
    assert not torch.equal(model.train().reparameterize(mu, logvar), mu)
    assert torch.equal(model.eval().reparameterize(mu, logvar), mu)


def test_vae_runs_channels_last():
    model = VAELatent().to(memory_format=torch.channels_last)
    assert model(torch.rand(2, 3, 100, 100).contiguous(memory_format=torch.channels_last)).shape == (2, 3, 100, 100)


def test_gaussian_kl_matches_torch_distributions():
    mu, logvar = torch.randn(4, 5), torch.randn(4, 5)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(4, 5), torch.ones(4, 5))
    torch.testing.assert_close(gaussian_kl(mu, logvar), torch.distributions.kl_divergence(q, p).sum())


@pytest.mark.parametrize("beta", [1.0, 4.0])
def test_callback_adds_beta_times_kl_in_training_and_validation(beta):
    torch.manual_seed(0)
    x = torch.rand(8, 3, 100, 100)
    model = VAELatent().eval()  # eval: the model returns mu-decodings, so the loss is a pure function

    with torch.no_grad():
        mu, logvar = model.encode(x)
        expected_recon = nn.functional.mse_loss(model(x), x, reduction="sum")
        expected_kl = gaussian_kl(mu, logvar)

    class Frozen(nn.Module):  # the same model, kept in eval mode during Trial training
        def __init__(self):
            super().__init__()
            self.vae = model

        def train(self, mode=True):
            return super().train(False)

        def forward(self, x, state=None):
            return self.vae(x, state)

    trial = Trial(Frozen(), torch.optim.SGD(model.parameters(), lr=0.0), nn.MSELoss(reduction="sum"), metrics=["loss", KLMetric(), ReconstructionMetric()],
                  callbacks=[KLDivergence(beta)], verbose=0)
    trial.with_generators(train_generator=torch.utils.data.DataLoader(list(zip(x, x)), batch_size=8),
                          val_generator=torch.utils.data.DataLoader(list(zip(x, x)), batch_size=8))
    trial.for_train_steps(1).for_val_steps(1)
    history = trial.run(1)[0]
    for prefix in ("", "val_"):
        assert history[f"{prefix}kl"] == pytest.approx(expected_kl.item(), rel=1e-5)
        assert history[f"{prefix}reconstruction"] == pytest.approx(expected_recon.item(), rel=1e-5)
        assert history[f"{prefix}loss"] == pytest.approx(expected_recon.item() + beta * expected_kl.item(), rel=1e-5)
