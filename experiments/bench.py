"""Benchmark: the measurements the project's speed choices rest on, on this machine, side by side in one run.

    python -m experiments.bench            # measure -> BENCHMARKS.json, then BENCHMARKS.md
    python -m experiments.bench --render   # BENCHMARKS.md again from BENCHMARKS.json: nothing is measured
    python -m experiments.bench --quick    # smoke test: synthetic images, batch 4, 2 rounds, under runs/quick/

One section per choice: (1) every model trains through its experiment's torchbearer Trial, not a hand-written
loop; (2) weights are stored channels_last, ``--compile`` is opt-in; (3) batches are loaded in the main process
and images decoded once into a uint8 cache; (4) the frozen inception encoder's features are cached; (5) the report
regenerates from the stored runs in seconds; (6) --bf16 against fp32 for every model, where the device runs bf16
natively (skipped, and said so, elsewhere).
``measure`` writes the numbers, ``render`` only formats them.

Time on 2 CPU cores: about 14 min (the last measurement, BENCHMARKS.json's "seconds"); --quick about a minute.
"""
import argparse
import contextlib
import datetime
import io
import itertools
import json
import math
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

from torchbearer_colorize.training.cli import device as device_arg
from torchbearer_colorize.training.cli import user_errors_exit, writable_folder


def parser():
    p = argparse.ArgumentParser(prog="python -m experiments.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke test (about a minute): synthetic images, batch 4")
    p.add_argument("--render", action="store_true", help="rewrite the markdown from the JSON; measure nothing")
    p.add_argument("--out", type=Path, default=None, help="the markdown file, its numbers beside it as .json "
                                                          "(default: BENCHMARKS.md; --quick: runs/quick/BENCHMARKS.md)")
    p.add_argument("--device", type=device_arg, default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.add_argument("--no-compile", action="store_true", help="skip the torch.compile measurement")
    return p


if __name__ == "__main__":  # --help and mistyped options answered before torch is imported (seconds)
    parser().parse_args()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchbearer  # noqa: E402
from PIL import Image  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402
from torchbearer.callbacks import Callback  # noqa: E402

from callbacks import LOGVAR, MU, gaussian_kl  # noqa: E402
from torchbearer_colorize.atomic import write_json, write_text  # noqa: E402
from torchbearer_colorize.data import builtin  # noqa: E402
from torchbearer_colorize.data.features import FeatureDataset  # noqa: E402
from torchbearer_colorize.data.fruits360 import DEFAULT_CLASSES, load_fruits360  # noqa: E402
from torchbearer_colorize.data.fruits360 import IMAGE_SIZE as FRUIT_SIZE  # noqa: E402
from torchbearer_colorize.data.noise import SaltPepperDataset  # noqa: E402
from torchbearer_colorize.data.paintings import ColorizationDataset, ReconstructionDataset, load_paintings  # noqa: E402
from torchbearer_colorize.data.tasks import TaskData  # noqa: E402
from torchbearer_colorize.models import load_encoder  # noqa: E402
from torchbearer_colorize.models.inception import FEATURES  # noqa: E402
from torchbearer_colorize.report.tables import markdown_table  # noqa: E402
from torchbearer_colorize.training.prepare import bf16_refusal  # noqa: E402
from torchbearer_colorize.training.runs import TrainOptions, machine, make_trial, resolve_device  # noqa: E402

from . import deep, denoise, inception, lr_sweep, report, unet, vae_fruits  # noqa: E402

# batch: the report's; steps: batches per timed round; rounds: per runner, after a warm-up round
DEFAULT = dict(quick=False, batch=32, steps=4, rounds=16, compile=True, jpegs=64, jpeg_size=(1024, 768))
QUICK = dict(DEFAULT, quick=True, batch=4, steps=2, rounds=2, compile=False, jpegs=8, jpeg_size=(320, 240))
BF16_TARGET = 1.5  # --bf16's training images/s over fp32's, every model, on a CPU with native bf16 (issue 40)
ROOT = Path(__file__).resolve().parents[1]


def clock(device):
    """``perf_counter`` once ``device`` has done the work queued on it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


class PassTimer(Callback):
    """Times the training pass alone: the epoch's callbacks, log and checkpoint come after it."""

    def __init__(self, device):
        self.device, self.seconds = device, 0.0

    def on_start_training(self, state):
        self.seconds = -clock(self.device)

    def on_end_training(self, state):
        self.seconds += clock(self.device)


def trial_runner(module, spec, data, folder, cfg, device, workers=0, **options):
    """Images/s of ``cfg.steps`` batches per call through the Trial a real run of ``module`` gets (validation off);
    ``workers``: the batches loaded by DataLoader worker processes instead of the main process."""
    timer, epochs = PassTimer(device), itertools.count(1)
    folder.mkdir(parents=True)
    trial, _ = make_trial(module.trial, spec, data, folder, TrainOptions(device=device, **options), [timer])
    loader = trial.state[torchbearer.TRAIN_GENERATOR]
    if workers:
        loader = DataLoader(data.train, batch_size=spec.batch_size, sampler=loader.sampler, num_workers=workers)
    trial.with_train_generator(loader, steps=cfg.steps)
    trial.state[torchbearer.VALIDATION_GENERATOR] = trial.state[torchbearer.VALIDATION_STEPS] = None

    def run():
        trial.run(next(epochs), verbose=0)
        return spec.batch_size * cfg.steps / timer.seconds
    return run


def hand_runner(module, spec, data, folder, cfg, device):
    """Images/s of the same training as a plain PyTorch loop: the model, optimizer and criterion of ``module``'s
    Trial (built alike: seed 0, channels_last), a DataLoader of the same batches; no callbacks."""
    trial, model = make_trial(module.trial, spec, data, folder, TrainOptions(device=device))
    optimizer, criterion = trial.state[torchbearer.OPTIMIZER], trial.state[torchbearer.CRITERION]
    loader = trial.state[torchbearer.TRAIN_GENERATOR]

    def run():
        start, total = clock(device), torch.zeros((), device=device)
        for x, y in itertools.islice(loader, cfg.steps):
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            optimizer.zero_grad()
            if spec.beta is None:
                loss = criterion(model(x), y)
            else:  # the beta-VAE's forward records the codes its KL term needs
                codes = {}
                loss = criterion(model(x, codes), y) + spec.beta * gaussian_kl(codes[MU], codes[LOGVAR])
            loss.backward()
            optimizer.step()
            total += loss.detach()
        total.item()  # a GPU's steps stay asynchronous until this one synchronisation per round
        return spec.batch_size * cfg.steps / (time.perf_counter() - start)
    return run


def interleave(runners, rounds):
    """Each runner's images/s over ``rounds`` calls after a warm-up call (compilation happens there), the order
    rotated every round so that drift in machine load hits all alike."""
    names, rates = list(runners), {name: [] for name in runners}
    for name in names:
        runners[name]()
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            rates[name].append(runners[name]())
    return rates


def models(cfg, device, paintings, fruits, workdir, log):
    """Every report model, Trial vs hand loop interleaved (the ratio: each Trial round over the hand loop's round
    next to it in time), and its Trial at --bf16 in the same rounds where the device runs bf16 natively (``cfg.bf16``;
    the ratio: each bf16 round over the fp32 Trial's next to it); the small colorizer also with NCHW weights and
    --compile."""
    color = ColorizationDataset(paintings)
    features = FeatureDataset(torch.rand(len(color), FEATURES), color)  # pooled inception features are >= 0
    small = next(s for s in lr_sweep.specs(SimpleNamespace(lrs=lr_sweep.LEARNING_RATES)) if s.lr == 1e-3)
    cases = [("small", lr_sweep, small, color), ("deep", deep, deep.SPECS[0], color),
             ("U-net", unet, unet.SPECS[0], color),
             ("denoise", denoise, denoise.SPECS[0], SaltPepperDataset(paintings, seed=0)),
             ("inception decoder (cached features)", inception, inception.SPECS[0], features),
             ("beta-VAE", vae_fruits, vae_fruits.specs(SimpleNamespace(beta=vae_fruits.BETA))[0],
              ReconstructionDataset(fruits))]
    rows, variants = [], []
    for i, (label, module, spec, train) in enumerate(cases):
        spec, data = replace(spec, batch_size=cfg.batch), TaskData(train, train, label="bench", fingerprint=label)
        log(f"[bench] {label}: Trial vs hand-written loop{' and --bf16' if cfg.bf16 else ''}, {cfg.rounds} rounds of "
            f"{cfg.steps} batches of {cfg.batch}")
        runners = {"trial": trial_runner(module, spec, data, workdir / f"trial-{i}", cfg, device),
                   "hand": hand_runner(module, spec, data, workdir / f"hand-{i}", cfg, device)}
        extra = {"bf16": dict(bf16=True)} if cfg.bf16 else {}
        if label == "small":
            extra["NCHW (channels_last=False)"] = dict(channels_last=False)
            if cfg.compile:
                extra["--compile"] = dict(compile=True)
        for j, (name, options) in enumerate(extra.items()):
            runners[name] = trial_runner(module, spec, data, workdir / f"variant-{i}-{j}", cfg, device, **options)
        rates = interleave(runners, cfg.rounds)
        rows.append(dict(model=label, trial=statistics.median(rates["trial"]), hand=statistics.median(rates["hand"]),
                         **ratios(rates["trial"], rates["hand"])))
        if cfg.bf16:
            rows[-1]["bf16"] = dict(rate=statistics.median(rates["bf16"]), **ratios(rates["bf16"], rates["trial"]))
        if label == "small":
            variants = [("defaults (channels_last, eager)", rows[0]["trial"])]
            variants += [(name, statistics.median(rates[name])) for name in extra if name != "bf16"]
    return rows, variants


def ratios(rates, others):
    """The median, least and greatest of the round-by-round ratios of ``rates`` over ``others`` (images/s of two
    runners, their rounds next to each other in time)."""
    each = [a / b for a, b in zip(rates, others)]
    return dict(ratio=statistics.median(each), ratio_min=min(each), ratio_max=max(each))


def data_path(cfg, device, paintings, workdir):
    """Images/s of decoding JPEGs made from the built-in paintings (a first run) against reading the uint8 cache (a
    later run) and deriving the gray inputs (once per run); the denoise Trial with one DataLoader worker against
    the main process loading (does a worker hide the per-image noise?)."""
    folder, cache = workdir / "jpegs", workdir / "jpeg-cache"
    folder.mkdir(parents=True)
    sources = builtin.verified_files(builtin.PAINTINGS)
    for i in range(cfg.jpegs):
        with Image.open(sources[i % len(sources)]) as painting:
            painting.resize(cfg.jpeg_size, Image.Resampling.BICUBIC).save(folder / f"{i:04d}.jpg", quality=90)
    start = time.perf_counter()
    load_paintings(folder, cache)  # the first load decodes and writes the cache
    decoded = time.perf_counter()
    splits = load_paintings(folder, cache)
    cached = time.perf_counter()
    ColorizationDataset(splits.train)
    gray = time.perf_counter()
    spec, runners = replace(denoise.SPECS[0], batch_size=cfg.batch), {}
    for name, workers in (("0 workers (default)", 0), ("1 worker", 1)):
        noisy = SaltPepperDataset(paintings, seed=0)
        data = TaskData(noisy, noisy, label="bench", fingerprint="bench-denoise")
        runners[name] = trial_runner(denoise, spec, data, workdir / f"workers-{workers}", cfg, device, workers=workers)
    return dict(jpegs=cfg.jpegs, jpeg_size=list(cfg.jpeg_size), decode=cfg.jpegs / (decoded - start),
                cached=cfg.jpegs / (cached - decoded), gray=len(splits.train) / (gray - cached),
                workers=[(name, statistics.median(rates)) for name, rates in interleave(runners, cfg.rounds).items()])


def feature_cache(cfg, device, paintings, decoder_rate):
    """Seconds per image of the frozen encoder as the feature cache runs it (no_grad, channels_last), and the
    inception experiment's epoch with and without the cache (the decoder trained at ``decoder_rate`` images/s)."""
    encoder = load_encoder(None, seed=0).to(device, memory_format=torch.channels_last)
    gray = ColorizationDataset(paintings[:cfg.batch]).gray.to(device)
    with torch.no_grad():
        encoder(gray)
        start = clock(device)
        encoder(gray)
        encode = (clock(device) - start) / len(gray)
    split = builtin.painting_split(builtin.verified_files(builtin.PAINTINGS))
    with_cache = len(split["train"]) / decoder_rate
    without = with_cache + (len(split["train"]) + len(split["test"])) * encode
    return dict(images=len(gray), encode=encode, with_cache=with_cache, without=without, ratio=without / with_cache,
                train=len(split["train"]), test=len(split["test"]))


def regenerate(cfg, workdir, log):
    """Seconds that ``experiments.report`` takes to regenerate figures/ from a copy of the committed run store and
    figures with a fresh image cache (a new clone's first run: only figures whose key changed are drawn), nothing
    trained; ``--quick``: the lr sweep at seed 0 only."""
    if not (ROOT / "runs").is_dir():
        return None
    store = workdir / "committed-runs"
    shutil.copytree(ROOT / "runs", store, ignore=shutil.ignore_patterns("quick", "checkpoint.pt", ".lock", "log.csv"))
    if (ROOT / "figures").is_dir():
        shutil.copytree(ROOT / "figures", workdir / "figures")
    scope = ["--only", "lr_sweep", "--seeds", "0"] if cfg.quick else []
    log("[bench] regenerating the report from the committed runs" + (f" ({' '.join(scope)})" if scope else ""))
    started, start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0), time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # its tables are the report's, not the benchmark's
        summary = report.main(["--runs-dir", str(store), "--out", str(workdir / "figures"), "--cache-dir",
                               str(workdir / "regenerate-cache"), "--no-pretrained", "--verbose", "0", *scope])
    return dict(seconds=time.perf_counter() - start, runs=summary.n_runs, trained=summary.trained_since(started),
                scope="the lr sweep, seed 0 (--quick)" if cfg.quick else "the whole report, every committed seed")


def measure(args, log=print):
    """Every measurement, as a JSON-able dict (lists of pairs where the order matters: JSON is written sorted)."""
    cfg = SimpleNamespace(**(QUICK if args.quick else DEFAULT))
    cfg.compile = cfg.compile and not args.no_compile
    device, started = resolve_device(args.device), time.perf_counter()
    bf16_skipped = bf16_refusal(device)  # an emulated bf16 is slower than fp32: nothing to measure
    cfg.bf16 = bf16_skipped is None
    with tempfile.TemporaryDirectory(prefix="tbc-bench-") as tmp:
        workdir, n = Path(tmp), cfg.batch * cfg.steps
        if cfg.quick:
            rng, label = np.random.default_rng(0), "random pixels of the report's shapes (--quick)"
            paintings = rng.integers(0, 256, (n, 256, 256, 3), dtype=np.uint8)
            fruits = rng.integers(0, 256, (n, FRUIT_SIZE, FRUIT_SIZE, 3), dtype=np.uint8)
        else:
            label = f"the first {n} training images of the built-in sets"
            paintings = load_paintings(None, workdir / "cache", limit=n).train
            fruits = load_fruits360(builtin.FRUITS, DEFAULT_CLASSES, limit=n, cache_dir=workdir / "cache").train
        rows, variants = models(cfg, device, paintings, fruits, workdir, log)
        log("[bench] the data path, and the frozen inception encoder")
        data = data_path(cfg, device, paintings, workdir)
        features = feature_cache(cfg, device, paintings, next(r["trial"] for r in rows if "inception" in r["model"]))
        regenerated = regenerate(cfg, workdir, log)
    gpu, cpu = f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else "", machine(device)
    return dict(command=" ".join(["python -m experiments.bench", *args.argv]),
                date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                seconds=round(time.perf_counter() - started),
                machine=f"{cpu['cpu']}, {cpu['cores']} cores, torch {torch.__version__} with {torch.get_num_threads()} "
                        f"threads, Python {platform.python_version()}, device {device}{gpu}",
                mode="--quick (a smoke test; its numbers mean little)" if cfg.quick else "default",
                rounds=cfg.rounds, steps=cfg.steps, batch=cfg.batch, data_label=label,
                models=rows, variants=variants, data=data, inception=features, regenerate=regenerated,
                **({"bf16_skipped": bf16_skipped} if bf16_skipped else {}))


def bf16_speedup(numbers=None):
    """``--bf16``'s training speed over fp32's as the benchmark measured it (``numbers``: BENCHMARKS.json's, by
    default the committed file): the median over the models of their median round ratio; None when it was not
    measured (no native bf16, or a measurement older than section 6). The one number to state bf16 times from."""
    if numbers is None:
        path = ROOT / "BENCHMARKS.json"
        numbers = json.loads(path.read_text()) if path.is_file() else {}
    measured = [row["bf16"]["ratio"] for row in numbers.get("models", ()) if "bf16" in row]
    return statistics.median(measured) if measured else None


def num(value, digits=3):
    """``digits`` significant digits, no exponent."""
    if value == 0 or not math.isfinite(value):
        return str(value)
    return f"{value:.{max(digits - 1 - int(math.floor(math.log10(abs(value)))), 0)}f}"


def render(r):
    """BENCHMARKS.md from ``measure``'s numbers: where they were measured, the summary, one section per choice."""
    rows, variants, data, inc = r["models"], r["variants"], r["data"], r["inception"]
    worst = min(rows, key=lambda row: row["ratio"])
    channels_last = variants[0][1] / variants[1][1]  # the defaults / NCHW
    (_, main_process), (_, worker) = data["workers"]
    cache = data["cached"] / data["decode"]
    summary = [(1, "training images/s, the experiment's Trial / a hand-written loop (worst model)", ">= 0.95",
                f"{num(worst['ratio'])} ({worst['model']})", worst["ratio"] >= 0.95),
               (2, "small colorizer images/s, channels_last weights / NCHW", "> 1", num(channels_last),
                channels_last > 1),
               (3, "images/s reading the uint8 cache / decoding the JPEGs", "> 1", num(cache), cache > 1),
               ("3b", "denoise images/s, main-process loading / 1 DataLoader worker", "> 1", num(main_process / worker),
                main_process > worker),
               (4, "inception epoch time, without / with the frozen-feature cache", ">= 5", num(inc["ratio"]),
                inc["ratio"] >= 5)]
    regen = r.get("regenerate")
    if regen:
        summary.append((5, f"seconds to regenerate the report from stored runs ({regen['scope']})", "< 60",
                        num(regen["seconds"]), regen["seconds"] < 60 and not regen["trained"]))
    bf16 = [x for x in rows if "bf16" in x]
    if bf16:
        slowest = min(bf16, key=lambda row: row["bf16"]["ratio"])
        summary.append((6, "training images/s, --bf16 autocast / fp32, the Trial (worst model)", f">= {BF16_TARGET}",
                        f"{num(slowest['bf16']['ratio'])} ({slowest['model']})",
                        slowest["bf16"]["ratio"] >= BF16_TARGET))
    elif r.get("bf16_skipped"):
        summary.append((6, "training images/s, --bf16 autocast / fp32", f">= {BF16_TARGET}", "skipped", None))
    summary = [(*row[:4], "skipped" if row[4] is None else "yes" if row[4] else "**no**") for row in summary]
    return "\n\n".join([
        "# Benchmarks",
        f"Measured by `{r['command']}` on {r['date']} in {r['seconds']:.0f} s: {r['machine']}. Mode: {r['mode']}; "
        f"{r['rounds']} timed rounds of {r['steps']} batches of {r['batch']} per runner after a warm-up round, "
        f"interleaved; medians. Data: {r['data_label']}. Rendered from BENCHMARKS.json.", *r.get("notes", ()),
        "## Summary", markdown_table(("#", "what", "target", "measured", "met"), summary).strip(),
        "## 1. Training images/s: the experiment's Trial vs a hand-written loop",
        "The Trial is the one a run trains (the experiment module's `trial(run)` made ready by `training.make_trial`, "
        "with the run store's callbacks; validation off), timed over its training pass. The hand loop trains that "
        "Trial's model, optimizer and criterion on the same batches and synchronises once per round. A ratio is the "
        "median over the rounds of the Trial's round divided by the hand loop's next to it in time. The inception "
        "decoder trains on random vectors of the cached features' shape.",
        markdown_table(("model", "Trial img/s", "hand loop img/s", "ratio (rounds min-max)"),
                       [(x["model"], num(x["trial"]), num(x["hand"]),
                         f"{num(x['ratio'])} ({num(x['ratio_min'])}-{num(x['ratio_max'])})") for x in rows]).strip(),
        "## 2. The small colorizer's weights and --compile",
        markdown_table(("small colorizer, Trial", "img/s"), [(k, num(v)) for k, v in variants]).strip(),
        "## 3. The data path",
        markdown_table(("step", "images/s"), [
            (f"decode {data['jpegs']} JPEGs of {data['jpeg_size'][0]} x {data['jpeg_size'][1]} to 256 x 256 uint8 "
             "(a first run; writes the cache)", num(data["decode"])),
            ("load the same from the uint8 cache (later runs)", num(data["cached"])),
            ("derive the gray inputs (once per run, not per epoch)", num(data["gray"]))]).strip(),
        "The denoising data set draws salt-and-pepper noise per image on the fly; its Trial with one DataLoader "
        "worker process, interleaved with the default:",
        markdown_table(("denoise, DataLoader", "Trial img/s"), [(k, num(v)) for k, v in data["workers"]]).strip(),
        "## 4. The inception experiment: frozen-feature cache vs encoder every step",
        f"The encoder is random here (the ImageNet one's architecture and cost), timed as the cache runs it on "
        f"{inc['images']} images; an epoch is {inc['train']} train and {inc['test']} test images, the decoder "
        "trained at section 1's rate.",
        markdown_table(("", "seconds"), [
            ("frozen encoder forward, per image", num(inc["encode"])), ("epoch with the cache", num(inc["with_cache"])),
            ("epoch without it (the encoder on every image)", num(inc["without"]))]).strip(),
        *(["## 5. Regenerating the report from the stored runs",
           f"`python -m experiments.report` on a copy of the committed run store, a fresh image cache, "
           f"`--no-pretrained` ({regen['scope']}): {regen['runs']} runs reused, {regen['trained']} trained, "
           f"{num(regen['seconds'])} s."] if regen else []),
        *bf16_section(r),
    ]) + "\n"


def bf16_section(r):
    """Section 6 of BENCHMARKS.md: fp32 against --bf16 for every model, or why it was skipped; nothing for a
    measurement older than the section."""
    rows = [x for x in r["models"] if "bf16" in x]
    heading = "## 6. --bf16 (bf16 autocast) vs fp32"
    if not rows:
        return [heading, f"Skipped: {r['bf16_skipped']}."] if r.get("bf16_skipped") else []
    return [heading,
            "Each model's Trial at --bf16 (its forward under bf16 autocast; loss, KL and metrics in fp32), in section "
            "1's rounds: a ratio is the median over the rounds of the bf16 round's images/s over the fp32 Trial's next "
            f"to it in time. Target: at least {BF16_TARGET} for every model. Median over the models: "
            f"{num(bf16_speedup(r))}.",
            markdown_table(("model", "fp32 img/s", "bf16 img/s", "ratio (rounds min-max)"),
                           [(x["model"], num(x["trial"]), num(x["bf16"]["rate"]),
                             f"{num(x['bf16']['ratio'])} ({num(x['bf16']['ratio_min'])}-{num(x['bf16']['ratio_max'])})")
                            for x in rows]).strip()]


@user_errors_exit
def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    args.argv = argv
    out = args.out or (Path("runs") / "quick" / "BENCHMARKS.md" if args.quick else Path("BENCHMARKS.md"))
    writable_folder("--out", out.parent)
    results = json.loads(out.with_suffix(".json").read_text()) if args.render else measure(args)
    if not args.render:
        write_json(out.with_suffix(".json"), results)
    text = render(results)
    write_text(out, text)
    print(text, f"written to {out}", sep="\n")
    return results, text


if __name__ == "__main__":
    main()
