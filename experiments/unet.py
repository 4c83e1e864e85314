"""Report question 4, U-net-like architecture: the small colorizer plus additive skips from encoder
layer 2 to decoder layer 1 and from encoder layer 1 to decoder layer 2 (one shared 1x1 ``skip``
convolution, as the report's forward uses one module for both), Adam, lr 0.001, 5 epochs.

Time at the report's settings on 2 CPU cores: about 3.5 min (one run of 20 epochs: the report's 5, in steps).
"""
from torchbearer_colorize.data.builtin import EPOCH_FACTOR
from torchbearer_colorize.training.cli import experiment_parser, parse_options, user_errors_exit

if __name__ == "__main__":  # --help and mistyped options answered before torch is imported (seconds)
    experiment_parser("unet", __doc__).parse_args()

from torch import nn  # noqa: E402
from torch.optim import Adam  # noqa: E402
from torchbearer import Trial  # noqa: E402

from torchbearer_colorize.data.tasks import colorization_data  # noqa: E402
from torchbearer_colorize.models import UNetColorizer  # noqa: E402
from torchbearer_colorize.report.outputs import write_outputs  # noqa: E402
from torchbearer_colorize.training.runs import RunSpec, TrainOptions, plan_runs, train  # noqa: E402

SPECS = [RunSpec("unet", model="unet", optimizer="adam", lr=1e-3, epochs=5 * EPOCH_FACTOR)]


def trial(run):
    model = UNetColorizer()
    return Trial(model, Adam(model.parameters(), lr=run.spec.lr), nn.MSELoss(), metrics=["loss"],
                 callbacks=run.callbacks()).with_generators(*run.loaders())


@user_errors_exit
def main(argv=None):
    args = parse_options("unet", __doc__, argv=argv)
    data = colorization_data(args)
    runs = plan_runs("unet", SPECS, data, args)  # --epochs etc.; --spread-over: workers train first
    results = [train(spec, data, trial, TrainOptions.from_args(args)) for spec in runs]
    return write_outputs("unet", "U-net colorizer: small net + additive skips", results, data, args)


if __name__ == "__main__":
    main()
