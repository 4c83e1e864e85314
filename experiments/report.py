"""The whole report in one command: every experiment at the report's settings (or --quick), then
REPORT.md beside the experiments' folders: the report's structure, each table with the report's
numbers beside ours, our loss curves and sample grids, the settings, and each of the report's
conclusions checked against our numbers (computed, never written by hand).

Finished runs are reused from the run store, so a rerun after an interruption trains only what is
missing (--force retrains everything). --seeds 0,1,2 repeats every run per seed; tables then show
mean ± std and verdicts say when a difference is within one std.

Time at the report's settings on 2 CPU cores: about 61 min for one seed (14 distinct runs; the learning-rate sweep
alone about 15 min; each committed run at the seed that trained it fastest); --quick,
a smoke test on a few images, a few minutes. Each experiment's first line says where its outputs go; Ctrl-C stops,
and the same command resumes.
"""
import argparse
import datetime
import importlib
import math
import re
import sys
import time
from pathlib import Path

from torchbearer_colorize.data.cache import default_cache_dir
from torchbearer_colorize.errors import UserError
from torchbearer_colorize.training.cli import (BF16_HELP, check_bf16, default_runs_dir, device, devices,
                                              non_negative_int, note_old_spelling, user_errors_exit, writable_folder)

# (name, which data root it takes), in the order they run
EXPERIMENTS = (
    ("lr_sweep", "paintings"),
    ("optimizers", "paintings"),
    ("deep", "paintings"),
    ("inception", "paintings"),
    ("unet", "paintings"),
    ("denoise", "paintings"),
    ("vae_fruits", "fruits"),
    ("color_classes", "paintings"),  # report question 2, built here; reuses lr_sweep's lr 0.001
)
ONE_SEED = ()  # experiments trained at the first seed only (none now: colour classification has its three seeds)
NAMES = tuple(name for name, _ in EXPERIMENTS)
SEEDS = (0, 1, 2)  # the seeds whose runs are committed in runs/: the default report trains nothing on a fresh clone


def seeds_arg(text):
    seeds = tuple(dict.fromkeys(non_negative_int(part.strip()) for part in text.split(",") if part.strip()))
    if not seeds:
        raise argparse.ArgumentTypeError("give at least one seed, e.g. 0 or 0,1,2")
    return seeds


def experiments_arg(text):
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [name for name in names if name not in NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown experiment(s) {', '.join(unknown) or text!r}; "
                                         f"choose from {', '.join(NAMES)}")
    return names


def parser():
    p = argparse.ArgumentParser(prog="python -m experiments.report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--paintings-root", type=Path, default=None,
                   help="folder tree of paintings (default: the built-in paintings, Monet and Van Gogh)")
    p.add_argument("--fruits-root", type=Path, default=None,
                   help="Fruits-360 folder (holding Training/ and Test/; default: the built-in fruit set)")
    p.add_argument("--seeds", type=seeds_arg, default=SEEDS,
                   help=f"comma-separated seeds (default {','.join(map(str, SEEDS))}: those committed in runs/)")
    p.add_argument("--only", type=experiments_arg, default=NAMES,
                   help=f"comma-separated subset of {', '.join(NAMES)} (default: all)")
    p.add_argument("--no-pretrained", action="store_true",
                   help="use a random frozen inception encoder even when the ImageNet weights are available")
    p.add_argument("--device", type=device, default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.add_argument("--spread-over", "--devices", type=devices, default=None, metavar="DEVICES",
                   help="spread each experiment's runs over these devices (e.g. cuda:0,cuda:1), one worker each "
                        "(formerly --devices)")
    p.add_argument("--bf16", action="store_true", help=f"every experiment with --bf16: {BF16_HELP}")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for REPORT.md and one folder per experiment (default: figures/)")
    p.add_argument("--runs-dir", type=Path, default=None,
                   help="the run store (default: runs/, committed with the repository; runs/quick/ with --quick)")
    p.add_argument("--cache-dir", type=Path, default=None, help="preprocessed-image cache")
    p.add_argument("--force", action="store_true", help="retrain every run even when a finished one is stored")
    p.add_argument("--strict", action="store_true", help="fail on unreadable image files instead of skipping them")
    p.add_argument("--quick", action="store_true",
                   help="smoke test: every experiment with --quick; outputs under RUNS_DIR/quick/report unless --out")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1, help="progress bars: 0, 1 or 2")
    p.add_argument("--tensorboard", type=Path, default=None, metavar="DIR",
                   help="log every run trained to DIR/<run folder> with torchbearer's TensorBoard callbacks")
    return p


@user_errors_exit
def arguments(argv=None):
    """The options read, their default folders filled in and checked: the roots exist, the outputs are writable."""
    args = parser().parse_args(argv)
    note_old_spelling(sys.argv[1:] if argv is None else argv)
    if args.out is None:
        args.out = default_runs_dir(args.runs_dir) / "quick" / "report" if args.quick else Path("figures")
    args.runs_dir = default_runs_dir(args.runs_dir, args.quick)
    args.cache_dir = args.cache_dir or default_cache_dir()
    for option, root in (("--paintings-root", args.paintings_root), ("--fruits-root", args.fruits_root)):
        if root is not None and not root.is_dir():
            raise UserError(f"{option} {root} is not a folder")
    check_bf16(args)
    for option, folder in (("--out", args.out), ("--runs-dir", args.runs_dir)):
        writable_folder(option, folder)
    return args


if __name__ == "__main__":  # --help and mistaken options answered before torch is imported (seconds)
    arguments()

import numpy as np  # noqa: E402
import torch  # noqa: E402

from torchbearer_colorize.atomic import write_text  # noqa: E402
from torchbearer_colorize.distributed import is_main  # noqa: E402
from torchbearer_colorize.models import load_encoder  # noqa: E402
from torchbearer_colorize.models.inception import PRETRAINED  # noqa: E402
from torchbearer_colorize.report import fidelity, tables, verdicts  # noqa: E402
from torchbearer_colorize.report import figures as plots  # noqa: E402
from torchbearer_colorize.report.page import render_checks, render_report, sync_readme  # noqa: E402
from torchbearer_colorize.report.summary import NOT_PRETRAINED, collect, has_measure  # noqa: E402


def pretrained_weights_file():
    """Where torchvision keeps the ImageNet inception_v3 weights once downloaded ($TORCH_HOME/hub/checkpoints/)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(PRETRAINED.url).name


def pretrained_encoder_problem():
    """Why the ImageNet inception weights cannot be had here, or None when they can (cached in
    $TORCH_HOME, or downloaded now)."""
    try:
        load_encoder("pretrained")
    except UserError as err:
        return str(err)
    return None


def experiment_argv(name, root_kind, args, seed, out, random_encoder):
    root = args.paintings_root if root_kind == "paintings" else args.fruits_root
    argv = ["--seed", str(seed), "--out", str(out), "--runs-dir", str(args.runs_dir),
            "--cache-dir", str(args.cache_dir), "--device", args.device, "--verbose", str(args.verbose)]
    argv += ["--spread-over", ",".join(args.spread_over)] if args.spread_over else []
    argv += ["--data-root", str(root)] if root is not None else []
    argv += ["--tensorboard", str(args.tensorboard)] if args.tensorboard else []
    argv += [flag for flag, on in (("--quick", args.quick), ("--force", args.force), ("--strict", args.strict),
                                   ("--bf16", args.bf16)) if on]
    if name == "inception" and random_encoder:
        argv.append("--no-pretrained")
    return argv


def inception_encoder(args):
    """``(random, line)``: whether the inception experiment gets a random frozen encoder, and the line that says
    which weights it uses and why."""
    if args.no_pretrained:
        return True, f"a random frozen encoder, as --no-pretrained asks (labelled {NOT_PRETRAINED!r})"
    weights = pretrained_weights_file()
    where = "cached in" if weights.is_file() else "downloaded to"  # asked before the download below
    problem = pretrained_encoder_problem()
    if problem:
        return True, (f"the pretrained inception_v3 weights are not available ({problem.split('. ')[0]}); falling "
                      f"back to a random frozen encoder, labelled {NOT_PRETRAINED!r}")
    return False, f"the ImageNet-pretrained inception_v3 weights, {where} {weights}"


def run_all(args):
    """Every chosen experiment for every seed; returns {experiment: {seed: [result, ...]}}."""
    random_encoder = args.no_pretrained
    if "inception" in args.only:  # said before any training: which weights, and why
        random_encoder, line = inception_encoder(args)
        print(f"[report] inception encoder: {line}", flush=True)
    results = {}
    for name, root_kind in EXPERIMENTS:
        if name not in args.only:
            continue
        module = importlib.import_module(f".{name}", __package__)
        seeds = args.seeds[:1] if name in ONE_SEED else args.seeds
        for seed in seeds:
            # the first seed's figures are the report's; the others' go beside them
            out = args.out / name if seed == seeds[0] else args.out / name / f"seed{seed}"
            print(f"\n[report] {name}, seed {seed} -> {out}", flush=True)
            found = module.main(experiment_argv(name, root_kind, args, seed, out, random_encoder))
            if seed != seeds[0]:  # comparison.png draws the first seed's sample rows only; the others' (functions
                for result in found or ():  # holding their model and test set) would stay in memory to the end
                    result.pop("sample_rows", None)
            results.setdefault(name, {})[seed] = found
        if len(seeds) > 1 and is_main():
            combine_tables(args.out / name, {seed: results[name][seed][0]["table"] for seed in seeds})
    return results


def combine_tables(folder, by_seed):
    """``folder``'s ``table_seeds.md``/``.csv``: the experiment's table over all seeds (``{seed: Table}``, as
    the experiment returned them). The first seed's own table and figures stay where the experiment alone
    writes them (so rerunning it leaves them as they are), the other seeds' go to ``seed<N>/``."""
    seeds = list(by_seed)
    first = by_seed[seeds[0]]
    notes = [re.sub(r", seed \d+$", "", note) for note in first.notes]
    columns, rows = tables.combine_seeds(by_seed)
    seed_list = ", ".join(map(str, seeds))
    tables.write_table(folder, f"{first.title}, seeds {seed_list}", rows, [
        f"seeds {seed_list}: each measure is the mean over the seeds and its `_std` column the sample standard "
        "deviation; unstable (and beats_baseline where the seeds differ): in how many seeds; other cells that "
        f"differ between seeds are joined by '/'; each seed's own table: table.md (seed {seeds[0]}) and "
        "seed<N>/table.md"] + notes, columns, name="table_seeds")


ROOT = Path(__file__).resolve().parent.parent
GENERATED = "Generated "  # REPORT.md's line that names the date and the command
# The comparison figure's rows: (experiment, run), in the report's order; the gray input and the truth
# come from the first one's sample rows.
COMPARED = (("lr_sweep", "lr 0.001", "small"), ("deep", "deep", "deep"), ("inception", "inception", "inception"),
            ("unet", "unet", "U-net"), ("color_classes", "ab regression (L2)", "ab regression (L2)"),
            ("color_classes", "classification (annealed mean)", "classification (rebalanced)"))


def lr_figure(summary, out):
    """lr_sweep/test_loss_vs_lr.png: each seed's final test loss against the learning rate, the mean joined."""
    points = {run.first["settings"]["lr"]: [r["test_loss"] for r in run.results] for run in summary.of("lr_sweep")}
    if len(points) > 1:
        label = summary.of("lr_sweep")[0].first["data"]
        plots.loss_vs_lr(out / "lr_sweep" / "test_loss_vs_lr.png", points,
                         f"lr sweep: final test loss against the learning rate\n{label}")


def tones_figure(summary, out):
    """lr_sweep/tones.png: the brown verdict's window beside the truth's mean tone and each colorizer's (first seed)."""
    low, high = verdicts.BROWN_HUE
    runs = [r for r in summary.distinct(lambda r: r.experiment in verdicts.COLORIZING) if has_measure(r, "tone_hue")
            and math.isfinite(r.first["metrics"]["tone_hue"])]
    if not runs:
        return
    swatches = [("window's edge", low), ("window's edge", high),
                ("the truth", runs[0].first["references"]["truth"]["tone_hue"])]
    swatches += [(r.run, r.first["metrics"]["tone_hue"]) for r in runs]
    plots.tone_swatches(out / "lr_sweep" / "tones.png", swatches,
                        f"'brown': a mean tone within {low:g}-{high:g} degrees; each colorizer's mean tone "
                        f"(seed {runs[0].first['settings']['seed']}), at L* 55, chroma 35")


def same_paintings(label, first, other):
    """Refuse a comparison row whose (gray inputs, truths) are not the first row's: the same images, pixel for pixel."""
    if not all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(first, other)):
        raise ValueError(f"comparison.png: the {label} run's sample grid shows other test images than the first "
                         "row's; every experiment must pick its samples with its data's test_groups")


def comparison_figure(summary, out):
    """comparison.png: the same test images through gray input, every colorizer and the truth (the first
    seed's sample rows, kept in memory by the experiments), side by side."""
    found = [(summary.get(e, r), label) for e, r, label in COMPARED]
    found = [(run, label) for run, label in found if run is not None and "sample_rows" in run.first]
    if len(found) < 2:
        return

    def rows():
        inputs, _, truth = found[0][0].first["sample_rows"]()
        rows = [("gray input", inputs[1])]
        for run, label in found:
            (_, gray), (_, prediction), (_, target) = run.first["sample_rows"]()
            same_paintings(label, (inputs[1], truth[1]), (gray, target))
            settings = run.first["settings"]
            rows.append((f"{label}{' (encoder NOT pretrained)' if run.not_pretrained else ''}, "
                         f"{settings['epochs']} ep, seed {settings['seed']}", prediction))
        return rows + [("ground truth", truth[1])]
    title = (f"the same test images through every colorizer (each trained for the report's optimizer steps, its "
             f"first seed)\n{found[0][0].first['data']}")
    sources = [(label, run.first["figure_source"]) for run, label in found]
    plots.sample_grid(out / "comparison.png", rows, title, sources)


def same_page(path, report):
    """Whether ``path`` holds ``report`` but for its line that says when and by which command it was generated."""
    def content(text):
        return [line for line in text.splitlines() if not line.startswith(GENERATED)]
    return path.is_file() and content(path.read_text(encoding="utf-8")) == content(report)


@user_errors_exit
def main(argv=None):
    args = arguments(argv)
    started, start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0), time.perf_counter()
    results = run_all(args)
    if not is_main():  # under torchrun rank 0 alone writes the report
        return None
    summary = collect(results)
    trained = summary.trained_since(started)
    command = "python -m experiments.report " + " ".join(argv if argv is not None else sys.argv[1:])
    lr_figure(summary, args.out)
    tones_figure(summary, args.out)
    comparison_figure(summary, args.out)
    report = render_report(summary, out=args.out, command=command.strip(), seeds=args.seeds, notes=fidelity.NOTES,
                           quick=args.quick)
    if not same_page(args.out / "REPORT.md", report):  # a rerun that changes nothing but when and how: untouched
        write_text(args.out / "REPORT.md", report)
    write_text(args.out / "checks.md", render_checks(summary))
    readme = ROOT / "README.md"
    if args.out.resolve() == (ROOT / "figures").resolve() and readme.exists():  # the README copies the page
        text = readme.read_text(encoding="utf-8")
        if sync_readme(text, report) != text:
            write_text(readme, sync_readme(text, report))
            print(f"[report] {readme.name}: results copied from {args.out / 'REPORT.md'}")
    print(f"\n[report] {trained} run(s) trained, {summary.n_runs - trained} reused; "
          f"{time.perf_counter() - start:.0f} s; wrote {args.out / 'REPORT.md'}")
    return summary


if __name__ == "__main__":
    main()
