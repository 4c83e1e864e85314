"""The command-line options every experiment shares, validated before any work starts.

Building the parser and reading the options import no torch (tens of seconds on a first start), so that
``--help`` and a mistyped option answer at once: an experiment module run as a script reads its options
before its own imports (``if __name__ == "__main__": ... parse_args()``), and ``main`` reads them again."""
import argparse
import functools
import os
import re
import sys
from pathlib import Path

from ..data.cache import CACHE_ENV, default_cache_dir
from ..errors import UserError

QUICK_IMAGES, QUICK_EPOCHS, QUICK_BATCH = 8, 1, 4


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text):
    value = int(text) if text.lstrip("-").isdigit() else None
    if value is None or value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}")
    return value


def _number(text, ok, requirement):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (ok(value) and value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be {requirement}, got {text}")
    return value


def positive_float(text):
    return _number(text, lambda v: v > 0, "a positive number")


def non_negative_float(text):
    return _number(text, lambda v: v >= 0, "a number >= 0")


def positive_floats(text):
    """A comma-separated list of positive numbers, e.g. ``1e-4,1e-3``."""
    return tuple(positive_float(part) for part in text.split(",") if part.strip())


def device(text):
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (torch's spelling); torch is asked only whether CUDA is there."""
    if text == "auto":
        return text
    if not re.fullmatch(r"(cpu|cuda)(:\d+)?", text):
        raise argparse.ArgumentTypeError(f"unknown device {text!r}; use auto, cpu, cuda or cuda:N")
    if text.startswith("cuda"):
        import torch
        if not torch.cuda.is_available():
            raise argparse.ArgumentTypeError(f"{text}: no CUDA device is available here; use cpu or auto")
    return text


def devices(text):
    """``--spread-over``: a comma-separated list of ``--device`` values, e.g. ``cuda:0,cuda:1`` (or ``cpu,cpu``)."""
    names = [device(part.strip()) for part in text.split(",") if part.strip()]
    if not names or "auto" in names:
        raise argparse.ArgumentTypeError(f"give devices such as cuda:0,cuda:1 or cpu,cpu, not {text!r}")
    return tuple(names)


PAINTINGS_HELP = "folder tree of paintings (any of jpg/png/bmp/webp/tif); default: the built-in paintings (Monet, Van Gogh)"


BF16_HELP = ("bf16 autocast of the model's forward (loss and metrics stay fp32), on a GPU or a CPU with native bf16 "
             "(AVX512-BF16, AMX; refused elsewhere); changes the numbers, so it is part of a run's identity "
             "(docs/speed.md)")


def experiment_parser(name, description, data_help=PAINTINGS_HELP, add_options=None):
    """The shared parser, plus an experiment's own options (``--lr``, ``--lrs``, ...) added by ``add_options(parser)``."""
    parser = argparse.ArgumentParser(prog=f"python -m experiments.{name}", description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", type=Path, default=None, help=data_help)
    parser.add_argument("--epochs", type=positive_int, default=None,
                        help="epochs for every run (default: the report's)")
    parser.add_argument("--batch-size", type=positive_int, default=None, help="batch size (default: 32, the report's)")
    parser.add_argument("--device", type=device, default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    parser.add_argument("--spread-over", "--devices", type=devices, default=None, metavar="DEVICES",
                        help="spread the runs over these devices, one worker process each (e.g. cuda:0,cuda:1); "
                             "each run is still trained and stored once. Not under torchrun. (Formerly --devices.)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # one --spread-over worker
    parser.add_argument("--worker-index", type=non_negative_int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of initialisation and shuffling")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"folder for tables, figures and result JSONs (default: figures/{name})")
    parser.add_argument("--runs-dir", type=Path, default=None,
                        help="run store: checkpoints, logs, finished results (default: runs/, the committed "
                             "store; runs/quick/ with --quick)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help=f"preprocessed-image cache (default: ${CACHE_ENV} or ~/.cache/torchbearer-colorize)")
    parser.add_argument("--force", action="store_true", help="retrain runs even when a finished one is stored")
    parser.add_argument("--limit", type=positive_int, default=None, help="use at most N images in each split")
    parser.add_argument("--strict", action="store_true",
                        help="fail on unreadable image files instead of skipping them with a warning")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: {QUICK_IMAGES} train + {QUICK_IMAGES} test images, {QUICK_EPOCHS} epoch, "
                             f"batch {QUICK_BATCH} (unless given explicitly); outputs go under RUNS_DIR/quick/ "
                             "unless --out is given")
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                        help="progress bars: 0 none, 1 per epoch (default), 2 per batch")
    parser.add_argument("--compile", action="store_true",
                        help="run the model through torch.compile (same fp32 operations, fused; the first steps "
                             "compile, tens of seconds); not part of a run's identity")
    parser.add_argument("--bf16", action="store_true", help=BF16_HELP)
    parser.add_argument("--tensorboard", type=Path, default=None, metavar="DIR",
                        help="also log every run trained to DIR/<run folder> with torchbearer's TensorBoard "
                             "callbacks (see docs/options.md, TensorBoard); not part of a run's identity")
    parser.set_defaults(experiment=name)
    if add_options:
        add_options(parser)
    return parser


def parse_options(name, doc, add_options=None, data_help=PAINTINGS_HELP, argv=None):
    """An experiment's options: the shared ones plus its own (``add_options(parser)``), read from ``argv`` (default
    ``sys.argv[1:]``), torchrun's process group joined (when launched by it) and the defaults filled in."""
    args = experiment_parser(name, doc, data_help, add_options).parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # a --spread-over worker reruns the command
    note_old_spelling(args.argv)
    join_process_group(args)
    return fill_defaults(args)


def note_old_spelling(argv):
    """A notice on stderr when ``argv`` spells ``--spread-over`` as it used to be spelled, ``--devices``."""
    if any(item == "--devices" or item.startswith("--devices=") for item in argv):
        print("note: --devices is now spelled --spread-over (the old spelling still works)", file=sys.stderr)


def join_process_group(args):
    """Under torchrun: join its process group; ``--device`` becomes this process's device and only rank 0 shows
    progress. One process: nothing but the ``--spread-over`` checks."""
    from .. import distributed
    if args.spread_over and distributed.launched():
        raise UserError("--spread-over spreads runs over devices itself; under torchrun give --device cuda (or cpu)")
    if args.spread_over and len(args.spread_over) == 1:
        args.device, args.spread_over = args.spread_over[0], None
    if distributed.launched():
        args.device = distributed.setup(args.device)
        if not distributed.is_main():
            args.verbose = 0  # one progress bar, rank 0's
    return args


def fill_defaults(args):
    """Apply ``--quick`` and default paths, and check up front that the output folders are writable and that
    ``--bf16`` has a GPU or a CPU with native bf16."""
    if args.quick:  # explicit --limit, --epochs, --batch-size still win
        args.limit = args.limit or QUICK_IMAGES
        args.epochs = args.epochs or QUICK_EPOCHS
        args.batch_size = args.batch_size or QUICK_BATCH
    args.cache_dir = args.cache_dir or default_cache_dir()
    check_bf16(args)
    if args.out is None:
        args.out = default_runs_dir(args.runs_dir) / "quick" / args.experiment if args.quick else \
            Path("figures") / args.experiment
    args.runs_dir = default_runs_dir(args.runs_dir, args.quick)
    if args.tensorboard:
        require_tensorboard()
    for option, folder in (("--out", args.out), ("--runs-dir", args.runs_dir), ("--tensorboard", args.tensorboard)):
        if folder is not None:
            writable_folder(option, folder)
    return args


def check_bf16(args):
    """A one-line error, before anything is written, when ``args.bf16`` asks for bf16 autocast where it cannot
    run: ``--device`` (auto: CUDA when present) without a GPU, or a CPU without native bf16."""
    if args.bf16:
        import torch

        from .prepare import bf16_refusal
        device = args.device if args.device != "auto" else "cuda" if torch.cuda.is_available() else "cpu"
        if problem := bf16_refusal(device):
            raise UserError(problem)


def default_runs_dir(runs_dir, quick=False):
    """``--runs-dir`` as given, else ``runs/`` (the store committed with the repository), or ``runs/quick``
    with ``--quick``: smoke-test runs stay out of the committed store (and its ``git status``)."""
    if runs_dir is not None:
        return runs_dir
    return Path("runs") / ("quick" if quick else "")


def require_tensorboard():
    """A one-line error unless tensorboardX, which torchbearer's TensorBoard callbacks write with, is installed."""
    try:
        import tensorboardX  # noqa: F401
    except ImportError:
        raise UserError("--tensorboard needs tensorboardX and tensorboard: pip install tensorboardX tensorboard "
                        "(or the package's extra: pip install 'torchbearer-colorize[tensorboard]')") from None


def writable_folder(option, folder):
    """Create ``folder`` if needed; a clear error naming ``option`` when it cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"{option} {folder} cannot be created ({err.strerror}): choose a writable folder")
    if not os.access(folder, os.W_OK):
        raise UserError(f"{option} {folder} is not writable: choose a writable folder")


def user_errors_exit(main):
    """Print a ``UserError`` as one line and exit 2, like argparse does for bad options; Ctrl-C is one line
    too (where a run was interrupted, from :func:`.runs.train`), exit 130 as a shell gives it."""
    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except UserError as err:
            print(f"error: {err}", file=sys.stderr)
            raise SystemExit(2) from None
        except KeyboardInterrupt as err:
            print(str(err) or "interrupted: rerun the same command to go on", file=sys.stderr)
            raise SystemExit(130) from None
    return wrapper
