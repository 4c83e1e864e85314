"""Report question 4, learning-rate sweep: the small colorizer trained with Adam at four rates for the report's
5 epochs (20 over our 400 training paintings: the report's number of optimizer steps).

The report prints 0.001 for its third run, repeating its second; the sweep's pattern (and that run's
far worse loss) says 0.01, which is what runs here (see docs/fidelity.md).

Time at the report's settings on 2 CPU cores: about 15 min (4 runs of 20 epochs on the built-in paintings); with
--bf16 on a CPU with native bf16 its lr 0.001 run took 97 s against fp32's 226 s (BENCHMARKS.md).
"""
from torchbearer_colorize.data.builtin import EPOCH_FACTOR
from torchbearer_colorize.training.cli import experiment_parser, parse_options, positive_floats, user_errors_exit

LEARNING_RATES = (1e-4, 1e-3, 1e-2, 1e-1)
EPOCHS = 5 * EPOCH_FACTOR  # the report's 5 epochs, in its number of optimizer steps


def options(parser):
    parser.add_argument("--lrs", type=positive_floats, default=LEARNING_RATES,
                        help="comma-separated learning rates (default: 1e-4,1e-3,1e-2,1e-1)")


if __name__ == "__main__":  # --help and mistyped options answered before torch is imported (seconds)
    experiment_parser("lr_sweep", __doc__, add_options=options).parse_args()

from torch import nn  # noqa: E402
from torch.optim import Adam  # noqa: E402
from torchbearer import Trial  # noqa: E402

from torchbearer_colorize.data.tasks import colorization_data  # noqa: E402
from torchbearer_colorize.models import SmallColorizer  # noqa: E402
from torchbearer_colorize.report.outputs import write_outputs  # noqa: E402
from torchbearer_colorize.training.runs import RunSpec, TrainOptions, plan_runs, train  # noqa: E402


def trial(run):
    """One run of the sweep: the small colorizer, Adam at the run's rate, MSE per pixel."""
    model = SmallColorizer()
    return Trial(model, Adam(model.parameters(), lr=run.spec.lr), nn.MSELoss(), metrics=["loss"],
                 callbacks=run.callbacks()).with_generators(*run.loaders())


def specs(args):
    return [RunSpec(f"lr {lr:g}", model="small", optimizer="adam", lr=lr, epochs=EPOCHS) for lr in args.lrs]


@user_errors_exit
def main(argv=None):
    args = parse_options("lr_sweep", __doc__, options, argv=argv)
    data = colorization_data(args)
    runs = plan_runs("lr_sweep", specs(args), data, args)  # --epochs etc.; --spread-over: workers train first
    results = [train(spec, data, trial, TrainOptions.from_args(args)) for spec in runs]
    return write_outputs("lr_sweep", "Learning-rate sweep: small colorizer", results, data, args,
                         group_rows=("lr 0.001",))  # and per painter: does one painter carry the result?


if __name__ == "__main__":
    main()
