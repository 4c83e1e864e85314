"""Exercise 2: the report's beta-VAE (latent size 5) on 30 classes of Fruits-360, 100 x 100 images.

The loss is the reconstruction MSE summed over the batch plus beta times the KL divergence summed over
the batch, added by the KLDivergence torchbearer callback; Adam, lr 0.0005, batch 32, 10 epochs,
beta 1 (the report states neither beta, epochs, batch size nor the reconstruction loss; summed MSE
reproduces its loss scale). Without --data-root the built-in Fruits-360 subset is used (6,000 real
photographs, 30 classes of release 2019.05.06.1); --download fetches Fruits-360 into --data-root first.

Time at the report's settings on 2 CPU cores: about 8 min (one run of 10 epochs on the built-in subset).
"""
import functools
from types import SimpleNamespace

from torchbearer_colorize.data.fruits360 import DEFAULT_CLASSES, FRUITS360_URL, download_fruits360, load_fruits360
from torchbearer_colorize.training.cli import experiment_parser, non_negative_float, parse_options, positive_int, \
    user_errors_exit

LR, EPOCHS, BETA = 5e-4, 10, 1.0
DATA_HELP = "Fruits-360 folder holding Training/ and Test/; default: the built-in 30-class subset"


def classes_arg(text):
    """``--classes``: a count, or comma-separated class names."""
    return positive_int(text) if text.strip().isdigit() else [name.strip() for name in text.split(",") if name.strip()]


def options(parser):
    parser.add_argument("--classes", type=classes_arg, default=DEFAULT_CLASSES,
                        help="how many fruit classes (default 30), or comma-separated class names")
    parser.add_argument("--beta", type=non_negative_float, default=BETA, help="weight of the KL term (default 1)")
    parser.add_argument("--download", action="store_true", help="download Fruits-360 into --data-root first")
    parser.add_argument("--url", default=FRUITS360_URL, help="the Fruits-360 archive to download")


if __name__ == "__main__":  # --help and mistyped options answered before torch is imported (seconds)
    experiment_parser("vae_fruits", __doc__, DATA_HELP, options).parse_args()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.optim import Adam  # noqa: E402
from torchbearer import Trial  # noqa: E402

from callbacks import KLDivergence, KLMetric, ReconstructionMetric  # noqa: E402
from torchbearer_colorize.color_space import rgb_to_lab  # noqa: E402
from torchbearer_colorize.data import builtin  # noqa: E402
from torchbearer_colorize.data.paintings import ReconstructionDataset  # noqa: E402
from torchbearer_colorize.data.tasks import TaskData  # noqa: E402
from torchbearer_colorize.errors import UserError  # noqa: E402
from torchbearer_colorize.models import VAELatent  # noqa: E402
from torchbearer_colorize.report import figures  # noqa: E402
from torchbearer_colorize.report.outputs import stored_json, write_outputs  # noqa: E402
from torchbearer_colorize.report.tables import COLUMNS  # noqa: E402
from torchbearer_colorize.training.runs import RunSpec, TrainOptions, plan_runs, train  # noqa: E402

CURVES = (("loss", "total loss"), ("reconstruction", "reconstruction (summed MSE)"), ("kl", "KL divergence"))
N_SAMPLES = 10
TRAVERSAL = torch.linspace(-2.5, 2.5, 9)  # a latent dimension swept over these many sds about its mean
LOSS_NOTE = ("losses: MSE summed over a batch of 32 plus beta x KL summed over the batch, averaged over the "
             "epoch's batches (torchbearer's loss metric)")


def trial(run):
    """The beta-VAE: its forward keeps mu and logvar in torchbearer's state, the criterion is the summed MSE
    and the ``KLDivergence`` callback adds beta x KL to it; the two terms are logged as metrics."""
    model = VAELatent()
    return Trial(model, Adam(model.parameters(), lr=run.spec.lr), nn.MSELoss(reduction="sum"),
                 metrics=["loss", KLMetric(), ReconstructionMetric()],
                 callbacks=[KLDivergence(run.spec.beta), *run.callbacks()]).with_generators(*run.loaders())


def fruit_data(args):
    if args.download:
        if args.data_root is None:
            raise UserError("--download needs --data-root: the folder to put Fruits-360 in")
        download_fruits360(args.data_root, args.url)
    if args.data_root is None:  # the built-in subset, read by the same loader as the full data set
        builtin.verified_files(builtin.FRUITS)
    splits = load_fruits360(args.data_root or builtin.FRUITS, args.classes, limit=args.limit, cache_dir=args.cache_dir,
                            strict=args.strict)
    if args.data_root is None:
        splits.label += f", {builtin.FRUITS_LABEL}"
    train = ReconstructionDataset(splits.train)
    mean = mean_image(train)
    return TaskData(train, ReconstructionDataset(splits.test), label=splits.label,
                    fingerprint=splits.fingerprint, task="reconstruct", row_labels=("input", "reconstruction"),
                    baseline_label=MEAN_IMAGE, baseline_predict=lambda inputs: mean.expand(len(inputs), -1, -1, -1))


MEAN_IMAGE = "training-set mean image (baseline)"  # what a model that learned nothing about each image predicts


def mean_image(dataset, batch_size=256):
    """The pixel-wise mean of ``dataset``'s targets, 1 x C x H x W."""
    total, count = 0.0, 0
    for start in range(0, len(dataset), batch_size):
        batch = torch.stack([dataset[i][1] for i in range(start, min(start + batch_size, len(dataset)))]).double()
        total, count = total + batch.sum(0), count + len(batch)
    return (total / count).float()[None]


def latent_codes(model, dataset, batch_size=256):
    """``mu`` and ``logvar`` of every item of ``dataset`` (N x latent each)."""
    images = torch.stack([dataset[i][0] for i in range(len(dataset))])
    with torch.no_grad():
        codes = [model.encode(images[i:i + batch_size]) for i in range(0, len(images), batch_size)]
    return torch.cat([mu for mu, _ in codes]), torch.cat([logvar for _, logvar in codes]), images


def latent_numbers(codes, decode):
    """What the latent figures show, in numbers (stored beside the run as ``latent.json``): the encoder's sd
    (median of exp(logvar / 2)) against mu's spread over the test set; mu's mean and sd per dimension (N(0, 1)
    would be 0 and 1); and the decoded fruit's mean L*, a*, b* at each end of each dimension's traversal (-2.5 and
    +2.5 sd, the others at their mean)."""
    mu, logvar, _ = codes()
    center, spread = mu.mean(0), mu.std(0)
    ends = []
    for d in range(len(center)):
        z = center.repeat(2, 1)
        z[:, d] = center[d] + TRAVERSAL[[0, -1]] * spread[d]
        ends.append(rgb_to_lab(torch.from_numpy(decode(z)).double()).mean(dim=(2, 3)).tolist())
    return {"encoder_sd": float((0.5 * logvar).exp().median()), "mu_sd": spread.tolist(), "mu_mean": center.tolist(),
            "traversal_lab": ends}


def latent_figures(out, name, model, data, caption, directory):
    """Histograms of mu and logvar; fruits decoded from samples of the codes' histogram (each dimension drawn
    from its test codes, as the report sampled); test codes with posterior noise added (its size in the title:
    when logvar is very negative the noise is tiny and the rows look alike), and with noise as wide as mu's spread
    over the test set; a traversal of each latent dimension, its columns labelled with their sd. Each is drawn
    only when its file does not hold it yet (the test set is encoded then). Returns ``latent_numbers``, stored in
    the run's ``directory``."""
    source = (figures.model_digest(model), data.fingerprint)
    codes = functools.cache(lambda: latent_codes(model, data.test))
    figures.histograms(out / f"{name}_latent_histograms.png",
                       lambda: [("mu", codes()[0].numpy()), ("logvar", codes()[1].numpy())],
                       f"latent codes of the test set\n{caption}", source)

    @functools.cache
    def draws():
        """The fitted distribution (mean and sd of mu), samples from it, and test codes with noise added."""
        mu, logvar, images = codes()
        generator = torch.Generator().manual_seed(0)
        center, spread = mu.mean(0), mu.std(0) if len(mu) > 1 else torch.ones_like(mu[0])
        # from the codes' histogram: each dimension of each sample one test code's value, drawn independently
        sampled = torch.gather(mu, 0, torch.randint(len(mu), (N_SAMPLES, mu.shape[1]), generator=generator))
        pick = torch.as_tensor(np.linspace(0, len(mu) - 1, min(N_SAMPLES, len(mu))).round().astype(int))
        sd = (0.5 * logvar[pick]).exp()
        noisy = mu[pick] + torch.randn(len(pick), mu.shape[1], generator=generator) * sd
        wide = mu[pick] + torch.randn(len(pick), mu.shape[1], generator=generator) * spread
        return SimpleNamespace(center=center, spread=spread, sampled=sampled, shown=images[pick], mu=mu[pick],
                               noisy=noisy, wide=wide, sd=sd, logvar=logvar[pick])

    def decode(z):
        with torch.no_grad():
            return model.decode(z).clamp(0, 1).numpy()

    def samples():
        sampled = decode(draws().sampled)
        return [("samples", sampled[:N_SAMPLES // 2]), ("samples", sampled[N_SAMPLES // 2:])]
    figures.sample_grid(out / f"{name}_samples_from_latent.png", samples,
                        f"fruits decoded from z drawn from the test codes' histogram, each dimension on its own"
                        f"\n{caption}", source)

    def noisy_codes():
        d = draws()
        return [("test input", d.shown.numpy()), ("decoded mu", decode(d.mu)),
                ("mu + noise from q(z|x)", decode(d.noisy)), ("mu + noise, sd of mu", decode(d.wide))]

    def noisy_title():  # the noise sizes, from the codes: computed when drawn, and keyed by the model as the rows
        d = draws()
        return (f"test codes with noise added: from q(z|x), median sd {d.sd.median():.2g} (median logvar "
                f"{d.logvar.median():.3g}), beside the spread of mu over the test set (median sd "
                f"{d.spread.median():.2g})\n{caption}")
    figures.sample_grid(out / f"{name}_noisy_codes.png", noisy_codes, noisy_title, (*source, caption))

    def traversal():
        center, spread = draws().center, draws().spread
        rows = []
        for d in range(len(center)):
            z = center.repeat(len(TRAVERSAL), 1)
            z[:, d] = center[d] + TRAVERSAL * spread[d]
            rows.append((f"z[{d}]", decode(z)))
        return rows
    figures.sample_grid(out / f"{name}_traversal.png", traversal,
                        f"each latent dimension swept from -2.5 to +2.5 sd, the others at their mean\n{caption}",
                        source, columns=[f"{x:+g} sd" for x in TRAVERSAL.tolist()])
    return stored_json(directory / "latent.json", lambda: latent_numbers(codes, decode),
                       lambda stored: "traversal_lab" in stored)


def specs(args):
    return [RunSpec("beta-VAE", model="vae", optimizer="adam", lr=LR, epochs=EPOCHS, loss="mse_sum", beta=args.beta)]


@user_errors_exit
def main(argv=None):
    args = parse_options("vae_fruits", __doc__, options, DATA_HELP, argv)
    data = fruit_data(args)
    runs = plan_runs("vae_fruits", specs(args), data, args)  # --epochs etc.; --spread-over: workers train first
    results = [train(spec, data, trial, TrainOptions.from_args(args)) for spec in runs]
    return write_outputs("vae_fruits", "beta-VAE (latent 5)", results, data, args,
                         columns=COLUMNS + ("beta", "test_reconstruction", "test_kl"), curves=CURVES,
                         run_figures=latent_figures, notes=(LOSS_NOTE,))


if __name__ == "__main__":
    main()
