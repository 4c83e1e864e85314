"""Report question 5, salt-and-pepper denoising: the small architecture with 3 input channels maps a
noisy color painting to the clean one; MSE, Adam, lr 0.001, 10 epochs. The noise is the report's black
and white dots (whole pixels), each image with its own amount drawn from U(0.02, 0.3); training noise
is fresh every epoch, the test split's is fixed.
The report's table cells are empty ("not reported").

Time at the report's settings on 2 CPU cores: about 6 min (one run of 40 epochs: the report's 10, in steps).
"""
from torchbearer_colorize.data.builtin import EPOCH_FACTOR, REPORT_STEPS
from torchbearer_colorize.training.cli import experiment_parser, parse_options, user_errors_exit

if __name__ == "__main__":  # --help and mistyped options answered before torch is imported (seconds)
    experiment_parser("denoise", __doc__).parse_args()

from torch import nn  # noqa: E402
from torch.optim import Adam  # noqa: E402
from torchbearer import Trial  # noqa: E402

from torchbearer_colorize.data.cache import fingerprint  # noqa: E402
from torchbearer_colorize.data.noise import AMOUNT, NOISE_KIND, SaltPepperDataset  # noqa: E402
from torchbearer_colorize.data.tasks import TaskData, paintings  # noqa: E402
from torchbearer_colorize.models import SmallColorizer  # noqa: E402
from torchbearer_colorize.report.outputs import write_outputs  # noqa: E402
from torchbearer_colorize.training.runs import RunSpec, TrainOptions, plan_runs, train  # noqa: E402

SPECS = [RunSpec("denoise", model="small", model_kwargs={"in_channels": 3}, optimizer="adam", lr=1e-3,
                 epochs=10 * EPOCH_FACTOR)]  # the report's 10 epochs, in steps


def trial(run):
    """Noisy RGB in, clean RGB out: the small colorizer with 3 input channels, Adam, MSE per pixel. The
    ``EpochSeed`` callback of ``run.callbacks()`` tells the training set each epoch, for fresh noise."""
    model = SmallColorizer(**run.spec.model_kwargs)
    return Trial(model, Adam(model.parameters(), lr=run.spec.lr), nn.MSELoss(), metrics=["loss"],
                 callbacks=run.callbacks()).with_generators(*run.loaders())


def noisy_data(args):
    splits = paintings(args)
    return TaskData(SaltPepperDataset(splits.train, seed=args.seed), SaltPepperDataset(splits.test, fixed=True),
                    label=splits.label, fingerprint=fingerprint(splits.fingerprint, NOISE_KIND, AMOUNT),
                    task="denoise", row_labels=("noisy input", "denoised", "clean"), test_groups=splits.test_groups,
                    baseline_label="noisy input (baseline)", report_steps=REPORT_STEPS)


@user_errors_exit
def main(argv=None):
    args = parse_options("denoise", __doc__, argv=argv)
    data = noisy_data(args)
    runs = plan_runs("denoise", SPECS, data, args)  # --epochs etc.; --spread-over: workers train first
    results = [train(spec, data, trial, TrainOptions.from_args(args)) for spec in runs]
    return write_outputs("denoise", "Salt-and-pepper denoising: small net, 3 channels in", results, data, args)


if __name__ == "__main__":
    main()
