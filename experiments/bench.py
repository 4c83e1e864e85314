"""Benchmark: the measurements the project's speed choices rest on, on this machine, side by side in one run.

    python -m experiments.bench            # measure (minutes on 2 CPU cores) -> BENCHMARKS.json, then BENCHMARKS.md
    python -m experiments.bench --render   # BENCHMARKS.md again from BENCHMARKS.json: nothing is measured
    python -m experiments.bench --quick    # smoke test: synthetic images, batch 4, 2 rounds, under RUNS_DIR/quick/

One section per choice: (1) every model trains through its experiment's torchbearer Trial, not a hand-written
loop; (2) weights are stored channels_last, ``--compile`` is opt-in; (3) batches are loaded in the main process
and images decoded once into a uint8 cache; (4) the frozen inception encoder's features are cached.
Measuring writes the numbers (``measure``); rendering only formats them (``render``).
"""
import argparse
import datetime
import itertools
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import namedtuple
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
import torchbearer
from PIL import Image
from torch.utils.data import DataLoader
from torchbearer.callbacks import Callback

from callbacks import LOGVAR, MU, gaussian_kl
from torchbearer_colorize.atomic import write_json, write_text
from torchbearer_colorize.data import IMAGE_SIZE, ColorizationDataset, ReconstructionDataset, builtin, fruit_render
from torchbearer_colorize.data import load_paintings
from torchbearer_colorize.data.features import FeatureDataset
from torchbearer_colorize.data.fruits360 import DEFAULT_CLASSES
from torchbearer_colorize.data.noise import SaltPepperDataset
from torchbearer_colorize.models import InceptionDecoder, load_encoder
from torchbearer_colorize.models.inception import FEATURES
from torchbearer_colorize.report.tables import markdown_table
from torchbearer_colorize.training import TaskData, make_trial
from torchbearer_colorize.training.cli import device as device_arg
from torchbearer_colorize.training.cli import positive_int, user_errors_exit, writable_folder
from torchbearer_colorize.training.runs import resolve_device

from . import deep, denoise, inception, lr_sweep, unet, vae_fruits

TARGET_RATIO, TARGET_WAIT, TARGET_CACHE = 0.95, 0.05, 5.0  # Trial / hand loop, data wait, feature-cache speed-up
PAINTINGS_TRAIN, PAINTINGS_TEST = builtin.default_sizes()
FRUITS_TRAIN = DEFAULT_CLASSES * fruit_render.TRAIN_PER_CLASS
# batch: the report's; steps: batches per timed round; rounds: per runner, after a warm-up round
DEFAULT = dict(quick=False, batch=32, steps=4, rounds=8, compile=True, jpegs=64, jpeg_size=(1024, 768),
               encoder_batches=2)
QUICK = dict(DEFAULT, quick=True, batch=4, steps=2, rounds=2, compile=False, jpegs=8, jpeg_size=(320, 240),
             encoder_batches=1)


def config(args):
    given = {"batch": args.batch_size, "steps": args.steps, "rounds": args.rounds}
    given = {k: v for k, v in given.items() if v is not None} | ({"compile": False} if args.no_compile else {})
    return SimpleNamespace(**{**(QUICK if args.quick else DEFAULT), **given})


def clock(device):
    """``perf_counter`` once ``device`` has done the work queued on it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def timings(fn, device, reps):
    fn()  # lazy initialisation and kernel selection are not what is measured
    times = []
    for _ in range(reps):
        start = clock(device)
        fn()
        times.append(clock(device) - start)
    return times


# One timed round: ``images`` trained in ``seconds`` (the training pass), ``wait`` of them fetching batches,
# ``startup`` of that starting the data iterator; ``overhead``: the rest of the Trial's epoch (callbacks, log,
# checkpoint). ``startup`` and ``overhead`` are paid once per epoch, the rest per image.
Sample = namedtuple("Sample", "images seconds wait startup overhead", defaults=[0.0])


class TimedLoader:
    """The first ``steps`` batches of ``loader``, timing how long each one takes to arrive."""

    def __init__(self, loader, steps):
        self.loader, self.steps, self.wait, self.startup, self.images = loader, min(steps, len(loader)), 0.0, 0.0, 0

    def __len__(self):
        return self.steps

    def __iter__(self):
        start, self.images = time.perf_counter(), 0
        iterator = iter(self.loader)  # worker processes start here, once per epoch
        self.startup = self.wait = time.perf_counter() - start
        for _ in range(self.steps):
            start = time.perf_counter()
            batch = next(iterator)
            self.wait += time.perf_counter() - start
            self.images += len(batch[0])
            yield batch

    def sample(self, seconds, overhead=0.0):
        return Sample(self.images, seconds, self.wait, self.startup, overhead)


class PassTimer(Callback):
    """Times the training pass alone: the epoch's callbacks, log and checkpoint come after it."""

    def __init__(self, device):
        self.device, self.seconds = device, 0.0

    def on_start_training(self, state):
        self.seconds = -clock(self.device)

    def on_end_training(self, state):
        self.seconds += clock(self.device)


def trial_runner(trial, spec, data, directory, cfg, device, workers=0, **options):
    """One epoch of ``cfg.steps`` batches per call through the Trial a real run gets (``make_trial`` of the
    experiment's ``trial``), validation off; ``workers``: the batches loaded by DataLoader worker processes."""
    timer, epochs = PassTimer(device), itertools.count(1)
    directory.mkdir(parents=True, exist_ok=True)
    built, _ = make_trial(trial, spec, data, directory, device=device, callbacks=[timer], **options)
    loader = built.state[torchbearer.TRAIN_GENERATOR]
    if workers:
        loader = DataLoader(data.train, batch_size=spec.batch_size, sampler=loader.sampler,
                            num_workers=workers, pin_memory=device.type == "cuda")
    timed = TimedLoader(loader, cfg.steps)
    built.with_train_generator(timed, steps=len(timed))
    built.state[torchbearer.VALIDATION_GENERATOR] = built.state[torchbearer.VALIDATION_STEPS] = None

    def run():
        start = clock(device)
        built.run(next(epochs), verbose=0)
        total = clock(device) - start
        return timed.sample(timer.seconds, max(total - timer.seconds, 0.0))
    run.loader = loader
    return run


def hand_runner(trial, spec, data, loader, directory, cfg, device):
    """The same training as a plain PyTorch loop: the model, optimizer and criterion of the experiment's Trial
    (built alike: seed 0, channels_last), the same data loader and batch size; no callbacks."""
    built, model = make_trial(trial, spec, data, directory, device=device)
    optimizer, criterion = built.state[torchbearer.OPTIMIZER], built.state[torchbearer.CRITERION]
    timed = TimedLoader(loader, cfg.steps)

    def run():
        model.train()
        total, start = torch.zeros((), device=device), clock(device)
        for x, y in timed:
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
        return timed.sample(time.perf_counter() - start)
    return run


def interleave(runners, rounds):
    """One warm-up call of every runner (returned apart: compilation happens there), then ``rounds`` calls
    each, the order rotated every round so that drift in machine load hits all alike."""
    names = list(runners)
    warm, samples = {name: runners[name]() for name in names}, {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            samples[name].append(runners[name]())
    return warm, samples


def rate(sample):  # images/s once the epoch runs
    return sample.images / (sample.seconds - sample.startup)


def median_rate(samples):
    return statistics.median(rate(s) for s in samples)


def epoch_rate(samples, images):  # images/s over an epoch of ``images``, the once-per-epoch costs included
    fixed = statistics.median(s.startup + s.overhead for s in samples)
    return images / (images / median_rate(samples) + fixed)


def wait_share(samples):  # of the training pass, once the data iterator runs
    return sum(s.wait - s.startup for s in samples) / sum(s.seconds - s.startup for s in samples)


def bench_data(cfg, cache_dir):
    """``cfg.batch * cfg.steps`` paintings and fruits: the built-in sets', in --quick random pixels."""
    n = cfg.batch * cfg.steps
    if cfg.quick:
        rng = np.random.default_rng(0)
        return (rng.integers(0, 256, (n, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8),
                rng.integers(0, 256, (n, fruit_render.SIZE, fruit_render.SIZE, 3), dtype=np.uint8),
                "random pixels of the report's shapes (--quick)")
    return (load_paintings(None, cache_dir, limit=n).train,
            fruit_render.builtin_fruit_splits(DEFAULT_CLASSES, cache_dir=cache_dir, limit=n).train,
            f"the first {n} training images of the built-in sets")


def model_cases(paintings, fruits):
    """(label, experiment, RunSpec, TaskData, images in the report's epoch) for every model of the report."""
    color, fruit = ColorizationDataset(paintings), ReconstructionDataset(fruits)
    features = torch.rand(len(color), FEATURES)  # pooled inception features are >= 0
    small = next(s for s in lr_sweep.specs(SimpleNamespace(lrs=lr_sweep.LEARNING_RATES)) if s.lr == 1e-3)
    cases = [("small", lr_sweep, small, color), ("deep", deep, deep.SPECS[0], color),
             ("U-net", unet, unet.SPECS[0], color),
             ("denoise", denoise, denoise.SPECS[0], SaltPepperDataset(paintings, seed=0)),
             ("inception decoder (cached features)", inception, inception.SPECS[0], FeatureDataset(features, color)),
             ("beta-VAE", vae_fruits, vae_fruits.specs(SimpleNamespace(beta=vae_fruits.BETA))[0], fruit)]
    return [(label, module, spec, TaskData(train, train, label="bench", fingerprint=f"bench-{label}"),
             FRUITS_TRAIN if train is fruit else PAINTINGS_TRAIN) for label, module, spec, train in cases]


def measure_models(cfg, device, paintings, fruits, workdir, log):
    """Every model, Trial vs hand loop interleaved; the small colorizer also with NCHW weights and --compile
    (and bf16 on CUDA) in the same rounds. Returns the models' rows and the small colorizer's variants."""
    rows, variants = [], []
    for i, (label, module, spec, data, epoch_images) in enumerate(model_cases(paintings, fruits)):
        spec = replace(spec, batch_size=cfg.batch)
        log(f"[bench] {label}: Trial vs hand-written loop, {cfg.rounds} rounds of {cfg.steps} batches of {cfg.batch}")
        trial = trial_runner(module.trial, spec, data, workdir / f"trial-{i}", cfg, device)
        runners = {"trial": trial,
                   "hand": hand_runner(module.trial, spec, data, trial.loader, workdir / f"hand-{i}", cfg, device)}
        extra = {}
        if label == "small":
            extra["NCHW (channels_last=False)"] = dict(channels_last=False)
            if cfg.compile:
                extra["--compile"] = dict(compile=True)
            if device.type == "cuda":
                extra["--bf16 (autocast)"] = dict(autocast=True)
        for j, (name, options) in enumerate(extra.items()):
            runners[name] = trial_runner(module.trial, spec, data, workdir / f"variant-{j}", cfg, device, **options)
        warm, samples = interleave(runners, cfg.rounds)
        # each Trial round against the hand loop's round next to it in time: the machine's load drifts
        pairs = list(zip(samples["trial"], samples["hand"]))
        ratios = [rate(t) / rate(h) for t, h in pairs]
        rows.append(dict(model=label, batch=cfg.batch, trial=median_rate(samples["trial"]),
                         hand=median_rate(samples["hand"]), ratio=statistics.median(ratios), ratio_min=min(ratios),
                         ratio_max=max(ratios), epoch_images=epoch_images, wait=wait_share(samples["trial"]),
                         epoch_ratio=statistics.median(epoch_rate([t], epoch_images) / epoch_rate([h], epoch_images)
                                                       for t, h in pairs)))
        if label == "small":
            variants = [dict(name="defaults (channels_last, eager)", rate=rows[0]["trial"], first=None)]
            variants += [dict(name=name, rate=median_rate(samples[name]),
                              first=warm[name].seconds + warm[name].overhead if name == "--compile" else None)
                         for name in extra]
    return rows, variants


def denoise_with_worker(cfg, device, paintings, workdir):
    """The denoise Trial with 1 DataLoader worker vs the default (the main process loads), interleaved: does a
    worker hide the per-image noise?"""
    spec, runners = replace(denoise.SPECS[0], batch_size=cfg.batch), {}
    for name, workers in (("0 workers (default)", 0), ("1 worker", 1)):
        dataset = SaltPepperDataset(paintings, seed=0)
        data = TaskData(dataset, dataset, label="bench", fingerprint="bench-denoise")
        runners[name] = trial_runner(denoise.trial, spec, data, workdir / f"workers-{workers}", cfg, device,
                                     workers=workers)
    _, samples = interleave(runners, cfg.rounds)
    return [dict(name=name, rate=median_rate(s), wait=wait_share(s), epoch=epoch_rate(s, PAINTINGS_TRAIN))
            for name, s in samples.items()]


def data_path(cfg, workdir):
    """Images/s of decoding JPEGs made from the built-in set's photos (a first run), of reading the uint8 cache
    (a later run), and of deriving the gray inputs (once per run)."""
    folder, cache = workdir / "jpegs", workdir / "jpeg-cache"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(cfg.jpegs):
        crop, _ = builtin.make_crop("train", i, size=max(cfg.jpeg_size))
        Image.fromarray(crop).resize(cfg.jpeg_size, Image.Resampling.BICUBIC).save(folder / f"{i:04d}.jpg", quality=90)
    cpu = torch.device("cpu")
    start = time.perf_counter()
    splits = load_paintings(folder, cache)  # the first load decodes and writes the cache
    decode = time.perf_counter() - start
    cached = min(timings(lambda: load_paintings(folder, cache), cpu, 1))
    gray = min(timings(lambda: (ColorizationDataset(splits.train), ColorizationDataset(splits.test)), cpu, 1))
    n = splits.n_train + splits.n_test
    return dict(n=n, jpeg_size=list(cfg.jpeg_size), decode=n / decode, cached=n / cached, gray=n / gray)


def inception_cache(cfg, device, paintings, decoder_row, log):
    """Seconds per image of the frozen encoder as the feature cache runs it (no_grad, channels_last) and of the
    decoder's evaluation forward, and what they make of the experiment's epoch with and without the cache."""
    log("[bench] inception: frozen encoder forward (random weights: same cost as the ImageNet ones)")
    encoder = load_encoder(None, seed=0).to(device, memory_format=torch.channels_last)
    decoder = InceptionDecoder().to(device, memory_format=torch.channels_last).eval()
    gray = ColorizationDataset(paintings[:cfg.batch]).gray.to(device)
    features = torch.rand(len(gray), FEATURES, device=device)
    with torch.no_grad():
        encode = statistics.mean(timings(lambda: encoder(gray), device, cfg.encoder_batches)) / len(gray)
        decode_eval = statistics.mean(timings(lambda: decoder(features), device, 3)) / len(gray)
    with_cache = PAINTINGS_TRAIN / decoder_row["trial"] + PAINTINGS_TEST * decode_eval
    without = with_cache + (PAINTINGS_TRAIN + PAINTINGS_TEST) * encode
    return dict(encode=encode, decode_eval=decode_eval, with_cache=with_cache, without=without,
                ratio=without / with_cache, measured_images=cfg.encoder_batches * len(gray))


def measure(args, log=print):
    """Every measurement, as a JSON-able dict (``render`` turns it into the document)."""
    cfg, device, started = config(args), resolve_device(args.device), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tbc-bench-") as tmp:
        workdir = Path(tmp)
        log(f"[bench] {'quick' if cfg.quick else 'default'} mode on {device}; temporary files in {workdir}")
        paintings, fruits, data_label = bench_data(cfg, workdir / "cache")
        models, variants = measure_models(cfg, device, paintings, fruits, workdir, log)
        log("[bench] denoise with a DataLoader worker")
        workers = denoise_with_worker(cfg, device, paintings, workdir)
        log("[bench] data path: decoding JPEGs vs the cache")
        data = data_path(cfg, workdir)
        decoder = next(row for row in models if row["model"].startswith("inception"))
        features = inception_cache(cfg, device, paintings, decoder, log)
    lines = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").is_file() else []
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
               platform.processor() or platform.machine())
    gpu = f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""
    return dict(
        command="python -m experiments.bench " + " ".join(args.argv),
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        seconds=round(time.perf_counter() - started),
        machine=(f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} with {torch.get_num_threads()} threads, "
                 f"Python {platform.python_version()}, device {device}{gpu}"),
        mode="--quick (a smoke test: synthetic images, batch 4; its numbers mean little)" if cfg.quick else "default",
        rounds=cfg.rounds, steps=cfg.steps, batch=cfg.batch, data_label=data_label,
        models=models, variants=variants, workers=workers, data=data, inception=features)


def num(value, digits=3):
    """``digits`` significant digits, no exponent."""
    if value == 0 or not math.isfinite(value):
        return str(value)
    return f"{value:.{max(digits - 1 - int(math.floor(math.log10(abs(value)))), 0)}f}"


def pct(value):
    return f"{100 * value:.1f} %"


def met(ok):
    return "yes" if ok else "**no**"


def render(r):
    """BENCHMARKS.md from ``measure``'s numbers: what was measured where, the summary, one section per choice."""
    models, inc, data = r["models"], r["inception"], r["data"]
    worst, waits = min(models, key=lambda x: x["epoch_ratio"]), max(models, key=lambda x: x["wait"])
    small = {v["name"]: v["rate"] for v in r["variants"]}
    default, nchw = small["defaults (channels_last, eager)"], small["NCHW (channels_last=False)"]
    main_process, worker = (w["epoch"] for w in r["workers"])
    summary = [
        (1, "training images/s, the experiment's Trial / a hand-written loop (worst model; report-sized epoch, "
            "per-epoch checkpoint and log included)", f">= {TARGET_RATIO}",
         f"{num(worst['epoch_ratio'])} ({worst['model']})", met(worst["epoch_ratio"] >= TARGET_RATIO)),
        (2, "small colorizer images/s, channels_last weights / NCHW", "> 1", num(default / nchw), met(default > nchw)),
        (3, "share of a training step waiting for data (worst model, main-process loading)", f"< {TARGET_WAIT:.0%}",
         f"{pct(waits['wait'])} ({waits['model']})", met(waits["wait"] < TARGET_WAIT)),
        ("3b", "denoise images/s over a report epoch, main process / 1 DataLoader worker", "> 1",
         num(main_process / worker), met(main_process > worker)),
        (4, "inception epoch time, without / with the frozen-feature cache", f">= {TARGET_CACHE:g}x",
         f"{inc['ratio']:.1f}x", met(inc["ratio"] >= TARGET_CACHE))]
    return "\n\n".join(part.strip("\n") for part in [
        "# Benchmarks",
        f"Measured by `{r['command']}` on {r['date']} in {r['seconds']:.0f} s: {r['machine']}.\nMode: {r['mode']}; "
        f"{r['rounds']} timed rounds of {r['steps']} batches of {r['batch']} per runner after one warm-up round, "
        f"runners interleaved (the order rotated each round); medians. Data: {r['data_label']}. Rendered from "
        "BENCHMARKS.json by `python -m experiments.bench --render`.",
        *r.get("notes", ()),
        "## Summary", markdown_table(("#", "what", "target", "measured", "met"), summary),
        "## 1. Training images/s: the experiment's Trial vs a hand-written loop",
        "The Trial is the one a run trains: the experiment module's `trial(run)` made ready by "
        "`training.make_trial` (the run's callbacks, CSV log and atomic checkpoint after every epoch; validation "
        "off). The hand loop trains that Trial's model, optimizer and criterion (the VAE: + beta x the same KL) "
        "with the same DataLoader and batch size, and synchronises once per round. Images/s count the training "
        "pass once the data iterator runs; the costs paid once per epoch (starting the iterator; the Trial's "
        "callbacks, log and checkpoint) are spread over the report's epoch in the last column. A ratio is the "
        "median over the rounds of the Trial's round divided by the hand loop's round next to it in time. The "
        "inception decoder trains on random feature vectors of the cached features' shape (N x 2048).",
        markdown_table(("model", "batch", "Trial img/s", "hand loop img/s", "ratio (rounds min-max)",
                        "data wait", "report epoch (images)", "ratio, report epoch"),
                       [(x["model"], x["batch"], num(x["trial"]), num(x["hand"]),
                         f"{num(x['ratio'])} ({num(x['ratio_min'])}-{num(x['ratio_max'])})", pct(x["wait"]),
                         x["epoch_images"], num(x["epoch_ratio"])) for x in models]),
        "## 2. The small colorizer's weights and --compile",
        "The same Trial with the weights in NCHW, and run through `torch.compile` (which compiles during its "
        "first epoch, the last column), interleaved with the defaults in the same rounds:",
        markdown_table(("small colorizer, Trial", "img/s", "first epoch s"),
                       [(v["name"], num(v["rate"]), "" if v["first"] is None else num(v["first"], 2))
                        for v in r["variants"]]),
        "## 3. The data path",
        markdown_table(("step", "images/s"), [
            (f"decode {data['n']} JPEGs of {data['jpeg_size'][0]} x {data['jpeg_size'][1]} to 256 x 256 uint8 "
             "(first run; includes writing the cache)", num(data["decode"])),
            ("load the same from the uint8 cache (later runs)", num(data["cached"])),
            ("derive the gray inputs (once per run, not per epoch)", num(data["gray"]))]),
        "The denoising data set draws salt-and-pepper noise per image on the fly (`data.noise`); the same Trial "
        "with one DataLoader worker process, interleaved:",
        markdown_table(("denoise, DataLoader", "Trial img/s", "data wait",
                        f"img/s over a report epoch ({PAINTINGS_TRAIN} images)"),
                       [(w["name"], num(w["rate"]), pct(w["wait"]), num(w["epoch"])) for w in r["workers"]]),
        "## 4. The inception experiment: frozen-feature cache vs encoder every step",
        f"The encoder is random here (same architecture, same cost as the ImageNet one), run as the cache runs it "
        f"(no_grad, channels_last) on {inc['measured_images']} images and extrapolated to the experiment's epoch "
        f"of {PAINTINGS_TRAIN} train + {PAINTINGS_TEST} test images; the decoder's training rate is section 1's.",
        markdown_table(("", "seconds"), [
            ("frozen encoder forward, per image", num(inc["encode"])),
            ("decoder evaluation forward, per image", num(inc["decode_eval"])),
            (f"epoch with the cache ({PAINTINGS_TRAIN} train images on features + {PAINTINGS_TEST} test forwards)",
             num(inc["with_cache"])),
            ("epoch without the cache (the same + the encoder on every train and test image)", num(inc["without"]))]),
    ]) + "\n"


def parser():
    p = argparse.ArgumentParser(prog="python -m experiments.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke test (about a minute): synthetic images, batch 4")
    p.add_argument("--render", action="store_true", help="rewrite the markdown from the JSON; measure nothing")
    p.add_argument("--out", type=Path, default=None,
                   help="the markdown file, its numbers beside it as .json (default: BENCHMARKS.md; with --quick "
                        "runs/quick/BENCHMARKS.md)")
    p.add_argument("--device", type=device_arg, default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.add_argument("--batch-size", type=positive_int, default=None, help="batch size (default 32; --quick 4)")
    p.add_argument("--steps", type=positive_int, default=None, help="batches per timed round (default 4; --quick 2)")
    p.add_argument("--rounds", type=positive_int, default=None, help="timed rounds per runner (default 8; --quick 2)")
    p.add_argument("--no-compile", action="store_true", help="skip the torch.compile measurement")
    return p


@user_errors_exit
def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    args.argv = argv
    out = args.out or (Path("runs") / "quick" / "BENCHMARKS.md" if args.quick else Path("BENCHMARKS.md"))
    writable_folder("--out", out.parent)
    if args.render:
        results = json.loads(out.with_suffix(".json").read_text())
    else:
        results = measure(args)
        write_json(out.with_suffix(".json"), results)
    text = render(results)
    write_text(out, text)
    print(text, f"written to {out}", sep="\n")
    return results, text


if __name__ == "__main__":
    main()
