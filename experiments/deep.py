"""Report question 4, deeper architecture: 5 convolutions (1->32->32->32->32->64) and 5 transposed
convolutions (64->32->32->32->32->3), Adam, lr 0.001, 10 epochs. The report found it blurrier than the
small net: its 64 x 8 x 8 bottleneck keeps too little.

Time at the report's settings on 2 CPU cores: about 5 min (one run of 40 epochs: the report's 10, in steps).
"""
from torchbearer_colorize.data.builtin import EPOCH_FACTOR
from torchbearer_colorize.training.cli import experiment_parser, parse_options, user_errors_exit

if __name__ == "__main__":  # --help and mistyped options answered before torch is imported (seconds)
    experiment_parser("deep", __doc__).parse_args()

from torch import nn  # noqa: E402
from torch.optim import Adam  # noqa: E402
from torchbearer import Trial  # noqa: E402

from torchbearer_colorize.data.tasks import colorization_data  # noqa: E402
from torchbearer_colorize.models import DeepColorizer  # noqa: E402
from torchbearer_colorize.report.outputs import write_outputs  # noqa: E402
from torchbearer_colorize.training.runs import RunSpec, TrainOptions, plan_runs, train  # noqa: E402

SPECS = [RunSpec("deep", model="deep", optimizer="adam", lr=1e-3, epochs=10 * EPOCH_FACTOR)]


def trial(run):
    model = DeepColorizer()
    return Trial(model, Adam(model.parameters(), lr=run.spec.lr), nn.MSELoss(), metrics=["loss"],
                 callbacks=run.callbacks()).with_generators(*run.loaders())


@user_errors_exit
def main(argv=None):
    args = parse_options("deep", __doc__, argv=argv)
    data = colorization_data(args)
    runs = plan_runs("deep", SPECS, data, args)  # --epochs etc.; --spread-over: workers train first
    results = [train(spec, data, trial, TrainOptions.from_args(args)) for spec in runs]
    return write_outputs("deep", "Deep colorizer: 5 + 5 layers", results, data, args)


if __name__ == "__main__":
    main()
