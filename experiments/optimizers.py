"""Report question 4, optimizer comparison: the small colorizer trained with SGD and Adadelta at lr 0.001
for 5 epochs, beside Adam at the same rate (the lr sweep's run, reused from the run store when present).

SGD is plain (no momentum) and Adadelta keeps its other defaults: the report names neither.

Time at the report's settings on 2 CPU cores: about 9 min (3 runs of 20 epochs); about 5 min when the lr sweep's
Adam run is stored (runs/ holds it) and reused.
"""
from torchbearer_colorize.data.builtin import EPOCH_FACTOR
from torchbearer_colorize.training.cli import experiment_parser, parse_options, positive_float, user_errors_exit

LR = 1e-3
EPOCHS = 5 * EPOCH_FACTOR  # the report's 5 epochs, in its number of optimizer steps


def options(parser):
    parser.add_argument("--lr", type=positive_float, default=LR, help="every optimizer's lr (default 0.001)")


if __name__ == "__main__":  # --help and mistyped options answered before torch is imported (seconds)
    experiment_parser("optimizers", __doc__, add_options=options).parse_args()

from torch import nn  # noqa: E402
from torch.optim import SGD, Adadelta, Adam  # noqa: E402
from torchbearer import Trial  # noqa: E402

from torchbearer_colorize.data.tasks import colorization_data  # noqa: E402
from torchbearer_colorize.models import SmallColorizer  # noqa: E402
from torchbearer_colorize.report.outputs import write_outputs  # noqa: E402
from torchbearer_colorize.training.runs import RunSpec, TrainOptions, plan_runs, train  # noqa: E402

OPTIMIZERS = {"sgd": SGD, "adadelta": Adadelta, "adam": Adam}  # a run's recorded optimizer -> its class


def trial(run):
    """One row: the small colorizer, the row's optimizer at the comparison's rate, MSE per pixel."""
    model = SmallColorizer()
    optimizer = OPTIMIZERS[run.spec.optimizer](model.parameters(), lr=run.spec.lr)
    return Trial(model, optimizer, nn.MSELoss(), metrics=["loss"],
                 callbacks=run.callbacks()).with_generators(*run.loaders())


def specs(args):
    return [RunSpec(optimizer.__name__, model="small", optimizer=key, lr=args.lr, epochs=EPOCHS)  # rows: SGD, ...
            for key, optimizer in OPTIMIZERS.items()]


@user_errors_exit
def main(argv=None):
    args = parse_options("optimizers", __doc__, options, argv=argv)
    data = colorization_data(args)
    runs = plan_runs("optimizers", specs(args), data, args)  # --epochs etc.; --spread-over: workers train first
    results = [train(spec, data, trial, TrainOptions.from_args(args)) for spec in runs]
    return write_outputs("optimizers", "Optimizer comparison: small colorizer", results, data, args)


if __name__ == "__main__":
    main()
