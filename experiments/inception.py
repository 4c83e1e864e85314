"""Report question 4, pretrained encoder: torchvision's inception_v3 with ImageNet weights, frozen, its
last layer replaced by a decoder of 6 transposed convolutions (2048->64->32->32->32->32->3); the gray
image is replicated to 3 channels, resized to 299 x 299 and ImageNet-normalized. Adam, lr 0.001,
10 epochs. The decoder sees the pooled 2048-value feature vector (the report's "much smaller latent").

The encoder is frozen, so its features are computed once per data set and weights and cached; the
Trial trains the decoder on them. Weights come from torchvision's cache ($TORCH_HOME), or --weights
FILE, or --no-pretrained (a random frozen encoder, said in every row and figure).

Time at the report's settings on 2 CPU cores: about 6 min: 5 min training the decoder (40 epochs: the report's 10, in
steps), and about 1 min setting the random encoder's batch-norm statistics and computing its features the first time
(cached afterwards).
"""
import functools
from pathlib import Path

from torchbearer_colorize.data.builtin import EPOCH_FACTOR, REPORT_STEPS
from torchbearer_colorize.report.summary import NOT_PRETRAINED
from torchbearer_colorize.training.cli import experiment_parser, parse_options, user_errors_exit

CALIBRATION_IMAGES = 256  # training images that set a random encoder's batch-norm statistics


def options(parser):
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument("--weights", type=Path, default=None,
                         help="a state-dict file of torchvision's inception_v3 (default: its ImageNet weights)")
    weights.add_argument("--no-pretrained", action="store_true",
                         help=f"use a randomly initialised frozen encoder, its batch-norm statistics set on "
                              f"{CALIBRATION_IMAGES} training images ({NOT_PRETRAINED})")


if __name__ == "__main__":  # --help and mistyped options answered before torch is imported (seconds)
    experiment_parser("inception", __doc__, add_options=options).parse_args()

from torch import nn  # noqa: E402
from torch.optim import Adam  # noqa: E402
from torchbearer import Trial  # noqa: E402

from torchbearer_colorize import distributed  # noqa: E402
from torchbearer_colorize.data.cache import fingerprint  # noqa: E402
from torchbearer_colorize.data.features import FeatureDataset, cached_features  # noqa: E402
from torchbearer_colorize.data.paintings import colorization_split  # noqa: E402
from torchbearer_colorize.data.tasks import GRAY_COPY, TaskData, paintings  # noqa: E402
from torchbearer_colorize.models import InceptionColorizer, InceptionDecoder, load_encoder  # noqa: E402
from torchbearer_colorize.models.inception import calibrate_batchnorm  # noqa: E402
from torchbearer_colorize.report.outputs import write_outputs  # noqa: E402
from torchbearer_colorize.training.runs import RunSpec, TrainOptions, plan_runs, resolve_device, train  # noqa: E402

SPECS = [RunSpec("inception", model="inception_decoder", optimizer="adam", lr=1e-3,
                 epochs=10 * EPOCH_FACTOR)]  # the report's 10 epochs, in steps


def trial(run):
    """The decoder alone, trained on the frozen encoder's cached features: Adam, MSE per pixel."""
    model = InceptionDecoder()
    return Trial(model, Adam(model.parameters(), lr=run.spec.lr), nn.MSELoss(), metrics=["loss"],
                 callbacks=run.callbacks()).with_generators(*run.loaders())


def feature_data(args):
    splits = paintings(args)
    with distributed.main_first():  # under torchrun rank 0 downloads the weights, the others read its copy
        encoder = load_encoder(None if args.no_pretrained else (args.weights or "pretrained"), seed=args.seed)
    device = resolve_device(args.device)
    pairs = {split: colorization_split(splits, split) for split in ("train", "test")}
    if args.no_pretrained:
        # stored in the run store beside the runs, so that a reuse reads them instead of a pass over the images
        stored = args.runs_dir / "encoders" / f"{encoder.weights_id}-bn{CALIBRATION_IMAGES}-{splits.fingerprint}.pt"
        calibrate_batchnorm(encoder, pairs["train"].gray[:CALIBRATION_IMAGES], stored)
    features = {split: FeatureDataset(functools.partial(cached_features, encoder, dataset, splits.fingerprint,
                                                        args.cache_dir, split, device), dataset)
                for split, dataset in pairs.items()}
    label = splits.label + (f"; {NOT_PRETRAINED}" if args.no_pretrained else "")
    return TaskData(features["train"], features["test"], label=label,
                    fingerprint=fingerprint(splits.fingerprint, encoder.weights_id), task="colorize-inception",
                    baseline_label=GRAY_COPY, report_steps=REPORT_STEPS, test_groups=splits.test_groups,
                    display=pairs["test"], display_model=lambda decoder: InceptionColorizer(encoder, decoder))


@user_errors_exit
def main(argv=None):
    args = parse_options("inception", __doc__, options, argv=argv)
    data = feature_data(args)
    runs = plan_runs("inception", SPECS, data, args)  # --epochs etc.; --spread-over: workers train first
    results = [train(spec, data, trial, TrainOptions.from_args(args)) for spec in runs]
    return write_outputs("inception", "Frozen inception_v3 encoder + 6-layer decoder", results, data, args)


if __name__ == "__main__":
    main()
