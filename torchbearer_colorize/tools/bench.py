"""Benchmark: how fast the project trains on this machine, measured side by side in one run.

``python -m torchbearer_colorize.bench`` writes one markdown document to BENCHMARKS.md and prints it: a summary
of the targets, then (1) training images/s of every report model through the project's torchbearer Trial vs a
plain PyTorch loop, (2) achieved FLOP/s against this machine's fp32 matmul peak (the small colorizer also NCHW,
--compile, bf16 on CUDA, and kernel by kernel), (3) the data path: JPEG decoding, the uint8 cache, data waits,
(4) the inception feature cache vs the encoder every step, (5) memory, (6) wall time of the whole report from the
run store, or with --full rerun into a temporary one and timed.

The default mode takes a few minutes on 2 CPU cores; --quick (a smoke test, about a minute) uses synthetic images
of the right shapes, batch 4 and 2 rounds, skips torch.compile and writes under RUNS_DIR/quick/ unless --out.
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
from torch.utils.data._utils.collate import default_collate
from torch.utils.flop_counter import FlopCounterMode
from torchbearer.callbacks import Callback

from callbacks.kl_divergence import LOGVAR, MU, gaussian_kl

from ..atomic import write_text
from ..data import IMAGE_SIZE, ColorizationDataset, ReconstructionDataset, builtin, fruit_render, load_paintings
from ..data.features import FeatureDataset
from ..data.fruits360 import DEFAULT_CLASSES
from ..data.noise import SaltPepperDataset
from ..models import build_model, load_encoder
from ..models.inception import FEATURES
from ..report.tables import markdown_table
from ..training.cli import device as device_arg, positive_int, user_errors_exit, writable_folder
from ..training.runs import peak_rss_mb, resolve_device, run_settings
from ..training.trial import LOSSES, OPTIMIZERS, TaskData, build_trial

# the summary's targets: Trial / hand loop, share of the matmul peak, data wait, cache speed-up, report minutes
TARGET_RATIO, TARGET_PEAK, TARGET_WAIT, TARGET_CACHE, TARGET_REPORT_MIN = 0.95, 0.70, 0.05, 5.0, 45.0
PAINTINGS_TRAIN, PAINTINGS_TEST = builtin.default_sizes()
FRUITS_TRAIN, FRUITS_TEST = (DEFAULT_CLASSES * n for n in (fruit_render.TRAIN_PER_CLASS, fruit_render.TEST_PER_CLASS))
INCEPTION_EPOCHS = 10
TASKS = {"inception": "colorize-inception", "denoise": "denoise", "vae_fruits": "reconstruct"}  # else colorize
CPU = torch.device("cpu")
# batch: the report's; steps: batches per timed round; rounds: per runner, after a warm-up round; jpegs of
# jpeg_size (width, height) for section 3; encoder_batches: timed in section 4
DEFAULT = dict(quick=False, batch=32, steps=4, rounds=8, compile=True, jpegs=64, jpeg_size=(1024, 768),
               encoder_batches=2, matmul_n=2048, matmul_reps=8)
QUICK = dict(DEFAULT, quick=True, batch=4, steps=2, rounds=2, compile=False, jpegs=8, jpeg_size=(320, 240),
             encoder_batches=1, matmul_reps=3)


def config(args):
    given = {"batch": args.batch_size, "steps": args.steps, "rounds": args.rounds}
    given = {k: v for k, v in given.items() if v is not None} | ({"compile": False} if args.no_compile else {})
    return SimpleNamespace(**{**(QUICK if args.quick else DEFAULT), **given})


# --- timing ----------------------------------------------------------------------------------------------------

def clock(device=CPU):
    """``perf_counter`` once ``device`` has done the work queued on it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def elapsed(fn, device=CPU):
    start = clock(device)
    fn()
    return clock(device) - start


def timings(fn, device, reps):
    fn()  # lazy initialisation, kernel selection and compilation are not what is measured
    return [elapsed(fn, device) for _ in range(reps)]


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


def trial_runner(spec, data, directory, cfg, device, workers=0, **trial_options):
    """One epoch of ``cfg.steps`` batches per call through the Trial a real run gets, validation off;
    ``workers``: the same batches loaded by DataLoader worker processes instead of the main process."""
    timer, epochs = PassTimer(device), itertools.count(1)
    directory.mkdir(parents=True, exist_ok=True)
    trial, _ = build_trial(spec, data, directory, seed=0, device=device, verbose=0, callbacks=[timer], **trial_options)
    loader = trial.state[torchbearer.TRAIN_GENERATOR]
    if workers:
        loader = DataLoader(data.train, batch_size=spec.batch_size, sampler=loader.sampler,
                            num_workers=workers, pin_memory=device.type == "cuda")
    timed = TimedLoader(loader, cfg.steps)
    trial.with_train_generator(timed, steps=len(timed))
    trial.state[torchbearer.VALIDATION_GENERATOR] = trial.state[torchbearer.VALIDATION_STEPS] = None

    def run():
        total = elapsed(lambda: trial.run(next(epochs), verbose=0), device)
        return timed.sample(timer.seconds, max(total - timer.seconds, 0.0))
    run.loader = loader
    return run


def step_loss(model, criterion, beta, x, y):
    """A training step's loss; the beta-VAE's forward records the codes its KL term needs."""
    if beta is None:
        return criterion(model(x), y)
    codes = {}
    return criterion(model(x, codes), y) + beta * gaussian_kl(codes[MU], codes[LOGVAR])


def hand_runner(spec, data, loader, cfg, device):
    """The same training as a plain PyTorch loop: the model built alike (seed 0, channels_last), the same
    optimizer, loss, data loader and batch size; no callbacks."""
    torch.manual_seed(0)
    model = build_model(spec.model, **spec.model_kwargs).to(device, memory_format=torch.channels_last)
    optimizer = OPTIMIZERS[spec.optimizer](model.parameters(), lr=spec.lr)
    criterion = data.criterion if data.criterion is not None else LOSSES[spec.loss]()
    timed = TimedLoader(loader, cfg.steps)

    def run():
        model.train()
        total, start = torch.zeros((), device=device), clock(device)
        for x, y in timed:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            optimizer.zero_grad()
            loss = step_loss(model, criterion, spec.beta, x, y)
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


def median_fixed(samples):  # seconds paid once per epoch
    return statistics.median(s.startup + s.overhead for s in samples)


def epoch_rate(samples, images):
    return images / (images / median_rate(samples) + median_fixed(samples))


def wait_share(samples):  # of the training pass, once the data iterator runs
    return sum(s.wait - s.startup for s in samples) / sum(s.seconds - s.startup for s in samples)


# --- what is measured ------------------------------------------------------------------------------------------

def report_specs():
    """The report's runs, from the experiment modules themselves: ``{experiment: [RunSpec, ...]}``."""
    from experiments import deep, denoise, inception, lr_sweep, optimizers, unet, vae_fruits
    return {"lr_sweep": lr_sweep.specs(SimpleNamespace(lrs=lr_sweep.LEARNING_RATES)),
            "optimizers": optimizers.specs(SimpleNamespace(lr=optimizers.LR)),
            "deep": list(deep.SPECS), "inception": list(inception.SPECS), "unet": list(unet.SPECS),
            "denoise": list(denoise.SPECS), "vae_fruits": vae_fruits.specs(SimpleNamespace(beta=vae_fruits.BETA))}


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
    """(label, RunSpec, TaskData, images in the report's epoch) for every model of the report."""
    specs, colour, fruit = report_specs(), ColorizationDataset(paintings), ReconstructionDataset(fruits)
    features = torch.rand(len(colour), FEATURES)  # pooled inception features are >= 0
    cases = [("small", next(s for s in specs["lr_sweep"] if s.lr == 1e-3), colour),
             ("deep", specs["deep"][0], colour), ("U-net", specs["unet"][0], colour),
             ("denoise", specs["denoise"][0], SaltPepperDataset(paintings, seed=0)),
             ("inception decoder (cached features)", specs["inception"][0], FeatureDataset(features, colour)),
             ("beta-VAE", specs["vae_fruits"][0], fruit)]
    return [(label, spec, TaskData(train, train, label="bench", fingerprint=f"bench-{label}"),
             FRUITS_TRAIN if train is fruit else PAINTINGS_TRAIN) for label, spec, train in cases]


def flops_per_image(spec, dataset, n=2):
    """Forward + backward FLOPs of a training step per image as ``FlopCounterMode`` counts them (matmuls and
    convolutions); on the CPU, since they do not depend on the device."""
    torch.manual_seed(0)
    model = build_model(spec.model, **spec.model_kwargs).train()
    x, y = default_collate([dataset[i] for i in range(n)])
    with FlopCounterMode(display=False) as counter:
        step_loss(model, LOSSES[spec.loss](), spec.beta, x, y).backward()
    return counter.get_total_flops() / n


def matmul_peak(device, n, reps):
    a, b, out = torch.randn(n, n, device=device), torch.randn(n, n, device=device), torch.empty(n, n, device=device)
    return 2 * n ** 3 / min(timings(lambda: torch.mm(a, b, out=out), device, reps)) / 1e9


def conv_layers(cfg, device, images):
    """The small colorizer's convolutions' forward, input- and weight-gradient kernels timed alone (best of 3)
    at a batch of ``cfg.batch``, channels_last as in training; FLOPs are 2 x multiply-adds."""
    torch.manual_seed(0)
    model, inputs = build_model("small").to(device, memory_format=torch.channels_last), {}

    def record(module, args, output):  # returns None: a forward hook's return value replaces the output
        inputs[module] = args[0].detach()
    hooks = [m.register_forward_hook(record)
             for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    with torch.no_grad():
        model(ColorizationDataset(images[:cfg.batch]).gray.to(device, memory_format=torch.channels_last))
    for hook in hooks:
        hook.remove()
    rows = []
    for i, (m, x) in enumerate(inputs.items()):
        transposed = isinstance(m, torch.nn.ConvTranspose2d)
        with torch.no_grad():
            y, forward = m(x), min(timings(lambda: m(x), device, 3))
        grad = torch.randn_like(y)

        def backward(mask):
            return min(timings(lambda: torch.ops.aten.convolution_backward(
                grad, x, m.weight, [m.out_channels], list(m.stride), list(m.padding), list(m.dilation), transposed,
                list(m.output_padding), m.groups, mask), device, 3))
        rows.append(dict(layer=f"{'transposed conv' if transposed else 'conv'} {m.in_channels}->{m.out_channels}",
                         size=f"{x.shape[-1]} -> {y.shape[-1]}", forward=forward,
                         flops=2 * m.kernel_size[0] * m.kernel_size[1]
                         * (x.numel() * m.out_channels if transposed else y.numel() * m.in_channels),
                         input_grad=backward([True, False, False]) if i else None,  # no image gradient in training
                         weight_grad=backward([False, True, True])))
    return rows


def measure_models(cfg, device, paintings, fruits, workdir, log):
    """Every model, Trial vs hand loop interleaved; the small colorizer also with its variants and the matmul
    peak beside them. Returns the models' rows, the small colorizer's variants and the peaks."""
    rows, variants, peaks = [], [], []
    for label, spec, data, epoch_images in model_cases(paintings, fruits):
        spec = replace(spec, batch_size=cfg.batch)
        log(f"[bench] {label}: Trial vs hand-written loop, {cfg.rounds} rounds of {cfg.steps} batches of {cfg.batch}")
        trial = trial_runner(spec, data, workdir / f"trial-{len(rows)}", cfg, device)
        runners = {"trial": trial, "hand": hand_runner(spec, data, trial.loader, cfg, device)}
        extra = {}
        if label == "small":
            extra["NCHW (channels_last=False)"] = dict(channels_last=False)
            if cfg.compile:
                extra["--compile"] = dict(compile=True)
            if device.type == "cuda":
                extra["--bf16 (autocast)"] = dict(autocast=True)
            runners["matmul peak"] = lambda: matmul_peak(device, cfg.matmul_n, 2)
        for i, (name, options) in enumerate(extra.items()):
            runners[name] = trial_runner(spec, data, workdir / f"variant-{i}", cfg, device, **options)
        warm, samples = interleave(runners, cfg.rounds)
        peaks += samples.pop("matmul peak", [])
        flops, trials = flops_per_image(spec, data.train), samples["trial"]
        # each Trial round against the hand loop's round next to it in time: the machine's load drifts
        pairs = list(zip(trials, samples["hand"]))
        ratios = [rate(t) / rate(h) for t, h in pairs]
        rows.append(dict(model=label, batch=cfg.batch, trial=median_rate(trials), hand=median_rate(samples["hand"]),
                         ratio=statistics.median(ratios), ratio_min=min(ratios), ratio_max=max(ratios),
                         overhead=median_fixed(trials), epoch_images=epoch_images,
                         epoch_trial=epoch_rate(trials, epoch_images), wait=wait_share(trials), flops=flops,
                         epoch_ratio=statistics.median(epoch_rate([t], epoch_images) / epoch_rate([h], epoch_images)
                                                       for t, h in pairs)))
        if label == "small":
            variants = [dict(name="defaults (channels_last, eager)", rate=rows[0]["trial"], flops=flops, first=None)]
            variants += [dict(name=name, rate=median_rate(samples[name]), flops=flops,
                              first=warm[name].seconds + median_fixed([warm[name]]) if name == "--compile" else None)
                         for name in extra]
    return rows, variants, peaks


def denoise_with_worker(cfg, device, paintings, workdir):
    """The denoise Trial with 1 DataLoader worker vs the default (the main process loads), interleaved: does a
    worker hide the per-image noise?"""
    spec, runners = replace(report_specs()["denoise"][0], batch_size=cfg.batch), {}
    for name, workers in (("0 workers (default)", 0), ("1 worker", 1)):
        dataset = SaltPepperDataset(paintings, seed=0)
        data = TaskData(dataset, dataset, label="bench", fingerprint="bench-denoise")
        runners[name] = trial_runner(spec, data, workdir / f"workers-{workers}", cfg, device, workers=workers)
    _, samples = interleave(runners, cfg.rounds)
    return [dict(name=name, rate=median_rate(s), wait=wait_share(s), startup=statistics.median(x.startup for x in s),
                 epoch=epoch_rate(s, PAINTINGS_TRAIN)) for name, s in samples.items()]


def data_path(cfg, workdir, small):
    """Decoding JPEGs made from the built-in set's photos (a first run), the uint8 cache (a later run), deriving
    the gray inputs (once per run), and what they make of the small colorizer's report epoch."""
    folder, cache = workdir / "jpegs", workdir / "jpeg-cache"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(cfg.jpegs):
        crop, _ = builtin.make_crop("train", i, size=max(cfg.jpeg_size))
        Image.fromarray(crop).resize(cfg.jpeg_size, Image.Resampling.BICUBIC).save(folder / f"{i:04d}.jpg", quality=90)
    decode = elapsed(lambda: load_paintings(folder, cache))  # the first load decodes and writes the cache
    cached = elapsed(lambda: load_paintings(folder, cache))
    splits = load_paintings(folder, cache)
    gray = elapsed(lambda: (ColorizationDataset(splits.train), ColorizationDataset(splits.test)))
    n = splits.n_train + splits.n_test
    per = dict(decode=decode / n, cached=cached / n, gray=gray / n)
    n_all, train_epoch = PAINTINGS_TRAIN + PAINTINGS_TEST, PAINTINGS_TRAIN / small["trial"] + small["overhead"]
    return dict(n=n, per_image=per, epochs={
        "first run, first epoch (decode every JPEG, derive gray, train)":
            PAINTINGS_TRAIN / (n_all * (per["decode"] + per["gray"]) + train_epoch),
        "later run, first epoch (uint8 cache, derive gray, train)":
            PAINTINGS_TRAIN / (n_all * (per["cached"] + per["gray"]) + train_epoch),
        "later epochs (images in memory)": PAINTINGS_TRAIN / train_epoch})


def inception_cache(cfg, device, paintings, decoder_row, log):
    """Per-image cost of the frozen encoder as the feature cache runs it (no_grad, channels_last) and of the
    decoder's evaluation forward, extrapolated to the experiment's epoch with and without the cache."""
    log("[bench] inception: frozen encoder forward (random weights: same cost as the ImageNet ones)")
    encoder = load_encoder(None, seed=0).to(device, memory_format=torch.channels_last)
    decoder = build_model("inception_decoder").to(device, memory_format=torch.channels_last).eval()
    gray = ColorizationDataset(paintings[:cfg.batch]).gray.to(device)
    features = torch.rand(len(gray), FEATURES, device=device)
    with torch.no_grad():
        encode = statistics.mean(timings(lambda: encoder(gray), device, cfg.encoder_batches)) / len(gray)
        decode_eval = statistics.mean(timings(lambda: decoder(features), device, 3)) / len(gray)
    with_cache = PAINTINGS_TRAIN / decoder_row["trial"] + decoder_row["overhead"] + PAINTINGS_TEST * decode_eval
    encoder_epoch = (PAINTINGS_TRAIN + PAINTINGS_TEST) * encode
    without = with_cache + encoder_epoch
    return dict(encode=encode, decode_eval=decode_eval, with_cache=with_cache, without=without,
                ratio=without / with_cache, measured_images=cfg.encoder_batches * len(gray),
                run_with=encoder_epoch + INCEPTION_EPOCHS * with_cache, run_without=INCEPTION_EPOCHS * without)


def identity(settings):
    """``run_settings`` but the data fingerprint, which only the built data sets and encoder weights give: the
    built-in sets are told by their label and size instead."""
    return json.dumps({k: v for k, v in settings.items() if k != "data"}, sort_keys=True)


def stored_runs(runs_dir):
    """Finished runs of the report's experiments at the report's settings (seed 0, fp32) on the built-in data
    sets, the newest of each: ``[(experiment, run name, result or None)]``."""
    found = {}
    for path in sorted(Path(runs_dir).glob("*/result.json")):
        try:
            result = json.loads(path.read_text())
            found.setdefault(identity(result["settings"]), []).append(result)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    rows, seen = [], set()
    for experiment, specs in report_specs().items():
        n_train = FRUITS_TRAIN if experiment == "vae_fruits" else PAINTINGS_TRAIN
        task = TaskData(None, None, label="", fingerprint="", task=TASKS.get(experiment, "colorize"))
        for key, spec in ((identity(run_settings(spec, task, seed=0)), spec) for spec in specs):
            if key not in seen:  # the optimizer table's Adam row is the sweep's lr 0.001 run
                seen.add(key)
                matches = [r for r in found.get(key, []) if r.get("status") == "finished"
                           and r.get("n_train") == n_train and "built-in" in r.get("data", "")]
                rows.append((experiment, spec.name, max(matches, key=lambda r: r.get("finished_at", ""), default=None)))
    return rows


def dataset_memory(paintings, fruits):
    """Bytes per image of each data set as the experiments hold it, times the report's image counts."""
    colour, fruit = ColorizationDataset(paintings[:1]), ReconstructionDataset(fruits[:1])
    n_paint, n_fruit = PAINTINGS_TRAIN + PAINTINGS_TEST, FRUITS_TRAIN + FRUITS_TEST
    paint, gray, fruit = (t.element_size() * t[0].numel() for t in (colour.colour, colour.gray, fruit.images))
    return [("paintings, colour (uint8)", n_paint, paint * n_paint, 4 * paint * n_paint),
            ("paintings, gray inputs (float32, derived once)", n_paint, gray * n_paint, None),
            ("inception features (float32, 2048 per image)", n_paint, 4 * FEATURES * n_paint, None),
            ("fruits (uint8)", n_fruit, fruit * n_fruit, 4 * fruit * n_fruit)]


def full_report_argv(device_name, workdir, quick=False):
    """``experiments.report``'s options for the whole report (one seed, colour classification excluded) into a
    fresh run store, image cache and output folder, so that every run trains and every data set is built."""
    from experiments import report
    return (["--only", ",".join(name for name in report.NAMES if name != "color_classes"),
             "--runs-dir", str(workdir / "report-runs"), "--out", str(workdir / "report-figures"),
             "--cache-dir", str(workdir / "report-cache"), "--device", device_name, "--verbose", "0"]
            + (["--quick"] if quick else []))


def full_report(device_name, workdir, quick, log):
    from experiments import report
    argv = full_report_argv(device_name, workdir, quick)
    log(f"[bench] --full: python -m experiments.report {' '.join(argv)}")
    return elapsed(lambda: report.main(argv))


# --- the document ----------------------------------------------------------------------------------------------

def num(value, digits=3):
    """``digits`` significant digits, no exponent for ordinary sizes."""
    if value is None or value == 0 or not math.isfinite(value):
        return "not measured" if value is None else str(value)
    return f"{value:.{max(digits - 1 - int(math.floor(math.log10(abs(value)))), 0)}f}"


def pct(value):
    return "not measured" if value is None else f"{100 * value:.1f} %"


def met(ok):
    return "not measured" if ok is None else ("yes" if ok else "**no**")


def share(images_per_s, flops, r):  # of the matmul peak
    return images_per_s * flops / 1e9 / r["peak"]


def blocks(*parts):
    return "\n\n".join(part.strip("\n") for part in parts)


def full_note(cfg):
    return " of the report's --quick smoke run" if cfg.quick else ""


def gpu_text(r):
    if r["gpu"] and r["device"].startswith("cuda"):
        return f"measured on the CUDA GPU {r['gpu']} (every figure above)"
    if r["gpu"]:
        return (f"a CUDA GPU ({r['gpu']}) is present but --device {r['device']} was asked for: no GPU figure was "
                "measured")
    return "no CUDA GPU on this machine: no GPU figure was measured"


def header(r, cfg):
    mode = "--quick (a smoke test: synthetic images, batch 4; its numbers mean little)" if cfg.quick else "default"
    return blocks("# Benchmarks", f"""\
Measured by `{r['command']}` on {r['date']} in {r['elapsed']:.0f} s: {r['machine']}.
Mode: {mode}; {cfg.rounds} timed rounds of {cfg.steps} batches of {cfg.batch} per runner after one warm-up round, \
runners interleaved (the order rotated each round); medians. Data: {r['data_label']}.""")


def summary(r, cfg):
    rows, inc, present = r["models"], r["inception"], [res for _, _, res in r["runs"] if res]
    worst, worst_wait = min(rows, key=lambda x: x["epoch_ratio"]), max(rows, key=lambda x: x["wait"])
    default = share(rows[0]["trial"], rows[0]["flops"], r)
    compiled = next((share(v["rate"], v["flops"], r) for v in r["variants"] if v["name"] == "--compile"), None)
    epochs = list(r["data"]["epochs"].values())
    rss = [res["peak_rss_mb"] for res in present if res.get("peak_rss_mb") is not None]
    seconds = sum(res["seconds"] for res in present)
    if r["full"] is not None:
        minutes = r["full"] / 60
        wall = f"{minutes:.1f} min{full_note(cfg)} (--full, measured now on {r['device']})"
    else:
        minutes = seconds / 60 if len(present) == len(r["runs"]) else None
        wall = (f"{seconds / 60:.1f} min: training time of the {len(present)} of {len(r['runs'])} runs in the run "
                "store" if present else "not measured (no finished report run in the run store)")
    return blocks("## Summary", markdown_table(("#", "what", "target", "measured", "met"), [
        (1, "training images/s, project's Trial / hand-written loop (worst model; report-sized epoch, per-epoch "
            "checkpoint and log included)", f">= {TARGET_RATIO}", f"{num(worst['epoch_ratio'])} ({worst['model']}); "
         f"training steps alone, worst {num(min(x['ratio'] for x in rows))}",
         met(worst["epoch_ratio"] >= TARGET_RATIO)),
        ("2a", "small colorizer, achieved GFLOP/s / fp32 matmul peak, project defaults", f">= {TARGET_PEAK:.0%}",
         pct(default), met(default >= TARGET_PEAK)),
        ("2b", "small colorizer, the same with `--compile`", f">= {TARGET_PEAK:.0%}",
         "not measured (--quick or --no-compile)" if compiled is None else pct(compiled),
         met(None if compiled is None else compiled >= TARGET_PEAK)),
        ("3a", "small colorizer images/s: first epoch of a first run (JPEG decode) vs later epochs", "",
         f"{num(epochs[0])} vs {num(epochs[-1])}", "-"),
        ("3b", "share of a training step waiting for data after epoch 1 (worst model)", f"< {TARGET_WAIT:.0%}",
         f"{pct(worst_wait['wait'])} ({worst_wait['model']})", met(worst_wait["wait"] < TARGET_WAIT)),
        (4, "inception epoch time, without / with the frozen-feature cache", f">= {TARGET_CACHE:g}x",
         f"{inc['ratio']:.1f}x", met(inc["ratio"] >= TARGET_CACHE)),
        (5, "peak resident memory, largest experiment (run store); data sets as held (uint8 images)", "",
         (f"{max(rss):.0f} MiB; " if rss else "not measured; ") + f"{sum(m[2] for m in r['memory']) / 2 ** 20:.0f} MiB",
         "-"),
        (6, "wall time of the whole report (one seed, colour classification excluded)", f"< {TARGET_REPORT_MIN:g} min",
         wall, "- (smoke run)" if cfg.quick and r["full"] is not None
         else met(None if minutes is None else minutes < TARGET_REPORT_MIN)),
        (7, "GPU", "", gpu_text(r), "-")]))


def section_1(r, cfg):
    return blocks("## 1. Training images/s: the project's Trial vs a hand-written loop", """\
The Trial is the one `train()` builds (`training.build_trial`: the run's callbacks, CSV log and atomic checkpoint \
after every epoch; validation off). The hand loop trains the same model (same seed, channels_last) with the same \
optimizer, loss (the VAE: summed MSE + beta x the same KL), DataLoader and batch size, and synchronises once per \
round. Images/s count the training pass once the data iterator runs; the costs paid once per epoch (starting the \
iterator; the Trial's callbacks, log and checkpoint) are measured apart and spread over the report's epoch in the \
last column. A ratio is the median over the rounds of the Trial's round divided by the hand loop's round next to it \
in time. The inception decoder trains on random feature vectors of the cached features' shape (N x 2048).""",
                  markdown_table(("model", "batch", "Trial img/s", "hand loop img/s", "ratio (rounds min-max)",
                                  "Trial per-epoch cost s", "report epoch (images)", "ratio, report epoch"),
                                 [(x["model"], x["batch"], num(x["trial"]), num(x["hand"]),
                                   f"{num(x['ratio'])} ({num(x['ratio_min'])}-{num(x['ratio_max'])})",
                                   num(x["overhead"], 2), x["epoch_images"], num(x["epoch_ratio"]))
                                  for x in r["models"]]))


def section_2(r, cfg):
    kernels = {"forward": "forward", "input_grad": "input gradient", "weight_grad": "weight gradient"}
    layer_ms = 1e3 * sum(x[key] or 0 for x in r["layers"] for key in kernels)
    slow = [(f"{x['layer']} ({x['size']}) {name}", x[key]) for x in r["layers"] for key, name in kernels.items()
            if x[key] is not None and x["flops"] / x[key] / 1e9 < r["peak"] / 2]
    slow = "none" if not slow else ("; ".join(name for name, _ in slow)
                                    + f": {num(1e3 * sum(t for _, t in slow))} ms of the {num(layer_ms)} ms")
    small_ms = 1e3 * cfg.batch / r["models"][0]["trial"]
    return blocks("## 2. Achieved FLOP/s against this machine's fp32 matmul peak", f"""\
fp32 matmul peak: {num(r['peak'])} GFLOP/s, the best {cfg.matmul_n} x {cfg.matmul_n} matmul of {len(r['peaks'])} \
measurements (before the models, between the small colorizer's rounds and at the end; their bests ranged \
{num(min(r['peaks']))}-{num(r['peak'])} GFLOP/s). FLOPs per image: one training step (forward + backward) counted by \
`torch.utils.flop_counter.FlopCounterMode` (convolutions and matmuls; elementwise work and the optimizer are not \
counted).""", markdown_table(
        ("model", "GFLOP per image (fwd+bwd)", "Trial img/s", "achieved GFLOP/s", "share of matmul peak"),
        [(x["model"], num(x["flops"] / 1e9), num(x["trial"]), num(x["trial"] * x["flops"] / 1e9),
          pct(share(x["trial"], x["flops"], r))) for x in r["models"]]), """\
The small colorizer's variants, interleaved with the default in the same rounds (`--compile` compiles during its \
first epoch; its time is in the last column):""", markdown_table(
        ("small colorizer, Trial", "img/s", "achieved GFLOP/s", "share of matmul peak", "first epoch s"),
        [(v["name"], num(v["rate"]), num(v["rate"] * v["flops"] / 1e9), pct(share(v["rate"], v["flops"], r)),
          "" if v["first"] is None else num(v["first"], 2)) for v in r["variants"]]), f"""\
Where the small colorizer's step goes: each convolution's kernels timed alone at a batch of {cfg.batch} \
(channels_last, best of 3, the kernels oneDNN picks for fp32).""", markdown_table(
        ("layer", "size", "GFLOP", "forward ms (GFLOP/s)", "input gradient ms (GFLOP/s)",
         "weight gradient ms (GFLOP/s)"),
        [(x["layer"], x["size"], num(x["flops"] / 1e9), *("not needed" if x[key] is None else
                                                          f"{num(x[key] * 1e3)} ({num(x['flops'] / x[key] / 1e9)})"
                                                          for key in kernels)) for x in r["layers"]]), f"""\
Sum of the kernels: {num(layer_ms)} ms per batch of {cfg.batch}, against {num(small_ms)} ms per step in the Trial \
({num(100 * layer_ms / small_ms)} %; the rest is the loss, ReLU and sigmoid, the optimizer and the data).
Below half the matmul peak: {slow}.""")


def section_3(r, cfg):
    per = r["data"]["per_image"]
    return blocks("## 3. The data path", markdown_table(("step", "images/s"), [
        (f"decode {r['data']['n']} JPEGs of {cfg.jpeg_size[0]} x {cfg.jpeg_size[1]} to 256 x 256 uint8 (first run; "
         "includes writing the cache)", num(1 / per["decode"])),
        ("load the same from the uint8 cache (later runs)", num(1 / per["cached"])),
        ("derive the gray inputs (once per run, not per epoch)", num(1 / per["gray"]))]), """\
What that makes of the small colorizer's epoch (extrapolated from the per-image costs above and the Trial's images/s \
and per-epoch cost):""", markdown_table(("small colorizer, report's epoch of built-in images", "images/s"),
                                        [(name, num(rate)) for name, rate in r["data"]["epochs"].items()]), """\
Share of the training pass spent waiting for the next batch after the first epoch (images are in memory then; the \
project's DataLoader loads in the main process, no workers):""", markdown_table(
        ("model", "data wait, share of the training pass"), [(x["model"], pct(x["wait"])) for x in r["models"]]), """\
The denoising data set draws salt-and-pepper noise per image on the fly (black and white pixels, `data.noise`); \
the same Trial \
with one DataLoader worker process, interleaved:""", markdown_table(
        ("denoise, DataLoader", "Trial img/s", "data wait", "iterator start per epoch s",
         f"img/s over a report epoch ({PAINTINGS_TRAIN} images)"),
        [(w["name"], num(w["rate"]), pct(w["wait"]), num(w["startup"], 2), num(w["epoch"])) for w in r["workers"]]))


def section_4(r, cfg):
    inc = r["inception"]
    return blocks("## 4. The inception experiment: frozen-feature cache vs encoder every step", f"""\
The encoder is random here (no network for the ImageNet weights; same architecture, same cost). It runs as the cache \
runs it (no_grad, channels_last); {inc['measured_images']} images were timed and extrapolated to the experiment's \
epoch of {PAINTINGS_TRAIN} train + {PAINTINGS_TEST} test images; the decoder's training rate is section 1's. Without \
the cache an epoch is {inc['ratio']:.1f}x slower.""", markdown_table(("", "seconds"), [
        (f"frozen encoder forward, per image (measured on {inc['measured_images']} images)", num(inc["encode"], 3)),
        ("decoder evaluation forward, per image", num(inc["decode_eval"], 3)),
        (f"epoch with the cache ({PAINTINGS_TRAIN} train images on features + {PAINTINGS_TEST} test forwards)",
         num(inc["with_cache"])),
        ("epoch without the cache (the same + the encoder on every train and test image)", num(inc["without"])),
        (f"whole run of {INCEPTION_EPOCHS} epochs with the cache (one encoding pass first)", num(inc["run_with"])),
        (f"whole run of {INCEPTION_EPOCHS} epochs without it", num(inc["run_without"]))]))


def section_5(r, cfg):
    return blocks("## 5. Memory", f"""\
Peak resident memory recorded by each finished run at the report's settings (`peak_rss_mb` in its result.json in \
{r['runs_dir']}: the process's peak when the run finished, so it includes whatever that process ran before it). This \
benchmark process peaked at {num(r['bench_rss'])} MiB.""", markdown_table(
        ("experiment", "run", "peak RSS MiB"),
        [(e, n, "not measured" if (res or {}).get("peak_rss_mb") is None else f"{res['peak_rss_mb']:.0f}")
         for e, n, res in r["runs"]]), """\
Preprocessed data sets at the report's sizes, as the experiments hold them (bytes per image measured on the data set \
objects, times the image counts):""", markdown_table(
        ("data set (report's size)", "images", "MiB as held", "MiB if float32"),
        [(name, n, f"{b / 2 ** 20:.0f}", f"{fl / 2 ** 20:.0f}" if fl else "") for name, n, b, fl in r["memory"]]))


def section_6(r, cfg):
    present = [res for _, _, res in r["runs"] if res]
    ends = [(datetime.datetime.fromisoformat(res["finished_at"]), res["seconds"])
            for res in present if res.get("finished_at")]
    minutes = ends and (max(e for e, _ in ends) - min(e - datetime.timedelta(seconds=s) for e, s in ends))
    span = "" if not ends else (f" From the first run's start to the last one's end {minutes.total_seconds() / 60:.1f}"
                                " min passed (data "
                                "preparation, feature encoding, metrics and figures included, and any pause between "
                                "commands).")
    full = ("Rerun and timed only with --full." if r["full"] is None else
            f"Measured now with --full: {num(r['full'] / 60)} min{full_note(cfg)} on {r['device']}, into a fresh run "
            "store and image cache (data sets built, features encoded, every run trained).")
    return blocks("## 6. Wall time of the whole report", f"""\
`python -m experiments.report` at the report's settings, one seed, colour classification excluded, on the built-in \
data sets. Training seconds recorded by the runs in {r['runs_dir']} (they exclude data preparation, feature encoding, \
metrics and figures).{span}
{full}""", markdown_table(
        ("experiment", "run", "seconds", "test loss", "finished at"),
        [(e, n, f"{res['seconds']:.0f}", num(res.get("test_loss"), 4), res.get("finished_at", "")) if res
         else (e, n, "missing", "", "") for e, n, res in r["runs"]]),
        f"Sum: {sum(res['seconds'] for res in present) / 60:.1f} min over {len(present)} of {len(r['runs'])} runs"
        f"{'' if len(present) == len(r['runs']) else ' (incomplete)'}.")


def render(r, cfg):
    """The document from ``run``'s numbers: a header, the summary, sections 1 to 6, the GPU."""
    sections = (header, summary, section_1, section_2, section_3, section_4, section_5, section_6)
    return blocks(*(section(r, cfg) for section in sections), "## GPU", gpu_text(r) + ".") + "\n"


def parser():
    p = argparse.ArgumentParser(prog="python -m torchbearer_colorize.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke test (about a minute): synthetic images, batch 4")
    p.add_argument("--full", action="store_true",
                   help="also rerun the whole report into a temporary run store and time it (over an hour on 2 CPU "
                        "cores; with --quick the report's --quick smoke run)")
    p.add_argument("--out", type=Path, default=None,
                   help="the markdown file (default: BENCHMARKS.md; with --quick RUNS_DIR/quick/BENCHMARKS.md)")
    p.add_argument("--runs-dir", type=Path, default=Path("runs"),
                   help="the run store whose finished runs give sections 5 and 6 (default: runs/)")
    p.add_argument("--device", type=device_arg, default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.add_argument("--batch-size", type=positive_int, default=None, help="batch size (default 32; --quick 4)")
    p.add_argument("--steps", type=positive_int, default=None, help="batches per timed round (default 4; --quick 2)")
    p.add_argument("--rounds", type=positive_int, default=None, help="timed rounds per runner (default 8; --quick 2)")
    p.add_argument("--no-compile", action="store_true", help="skip the torch.compile measurement")
    return p


def cpu_name():
    lines = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").is_file() else []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.processor() or platform.machine()


def run(args, log=print):
    """Measure everything; returns the raw numbers (``render`` turns them into the document)."""
    cfg, device, started = config(args), resolve_device(args.device), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tbc-bench-") as tmp:
        workdir = Path(tmp)
        log(f"[bench] {'quick' if cfg.quick else 'default'} mode on {device}; temporary files in {workdir}")
        peaks = [matmul_peak(device, cfg.matmul_n, cfg.matmul_reps)]
        paintings, fruits, data_label = bench_data(cfg, workdir / "cache")
        models, variants, during = measure_models(cfg, device, paintings, fruits, workdir, log)
        log("[bench] denoise with a DataLoader worker")
        workers = denoise_with_worker(cfg, device, paintings, workdir)
        log("[bench] data path: decoding JPEGs vs the cache")
        data = data_path(cfg, workdir, models[0])
        decoder = next(row for row in models if row["model"].startswith("inception"))
        inception = inception_cache(cfg, device, paintings, decoder, log)
        log("[bench] the small colorizer's convolutions one by one")
        layers = conv_layers(cfg, device, paintings)
        peaks += during + [matmul_peak(device, cfg.matmul_n, cfg.matmul_reps)]
        full = full_report(args.device, workdir, cfg.quick, log) if args.full else None
        # the runs --full just trained describe this machine now; the run store's may not
        runs = stored_runs(workdir / "report-runs" if args.full else args.runs_dir)
    return dict(
        command="python -m torchbearer_colorize.bench " + " ".join(args.argv),
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        machine=(f"{cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__} with {torch.get_num_threads()} "
                 f"threads, Python {platform.python_version()}, device {device}"),
        device=str(device) + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""),
        gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        data_label=data_label, models=models, variants=variants, layers=layers, workers=workers, data=data,
        inception=inception, peak=max(peaks), peaks=peaks, runs=runs, memory=dataset_memory(paintings, fruits),
        runs_dir="the fresh run store of --full" if args.full else f"`{args.runs_dir}`", full=full,
        bench_rss=peak_rss_mb(), elapsed=time.perf_counter() - started)


@user_errors_exit
def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    args.argv = argv
    if args.out is None:
        args.out = args.runs_dir / "quick" / "BENCHMARKS.md" if args.quick else Path("BENCHMARKS.md")
    writable_folder("--out", args.out.parent)
    results = run(args)
    text = render(results, config(args))
    write_text(args.out, text)
    print(text, f"written to {args.out}", sep="\n")
    return results, text


if __name__ == "__main__":
    main()
