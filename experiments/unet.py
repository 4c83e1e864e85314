"""Report question 4, U-net-like architecture: the small colorizer plus additive skips from encoder
layer 2 to decoder layer 1 and from encoder layer 1 to decoder layer 2 (one shared 1x1 ``skip``
convolution, as the report's forward uses one module for both), Adam, lr 0.001, 5 epochs.
"""
from torch import nn
from torch.optim import Adam
from torchbearer import Trial

from torchbearer_colorize.data.builtin import EPOCH_FACTOR
from torchbearer_colorize.models import UNetColorizer
from torchbearer_colorize.training import RunSpec
from torchbearer_colorize.training.cli import user_errors_exit
from torchbearer_colorize.training.experiment import experiment_main

SPECS = [RunSpec("unet", model="unet", optimizer="adam", lr=1e-3, epochs=5 * EPOCH_FACTOR)]


def trial(run):
    model = UNetColorizer()
    return Trial(model, Adam(model.parameters(), lr=run.spec.lr), nn.MSELoss(), metrics=["loss"],
                 callbacks=run.callbacks()).with_generators(*run.loaders())


@user_errors_exit
def main(argv=None):
    return experiment_main(argv, trial=trial, name="unet", doc=__doc__, specs=lambda args: SPECS,
                           title="U-net colorizer: small net + additive skips")


if __name__ == "__main__":
    main()
