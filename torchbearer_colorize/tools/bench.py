"""Benchmark: how fast the project trains on this machine, measured side by side in one run.

``python -m torchbearer_colorize.bench`` prints one markdown document and writes it to BENCHMARKS.md
(atomically): a summary table of the targets, then one section per question.

1. Training images/s of every model of the report (small, deep, U-net, denoise, inception decoder on
   cached-feature-shaped inputs, beta-VAE) through the project's torchbearer Trial (built by
   ``training.build_trial``: the same callbacks, checkpoint and log as a real run) and through a
   plain PyTorch loop over the same model, data loader, optimizer and loss (the VAE's with the same
   KL). The two alternate round by round, so machine noise hits both alike.
2. FLOPs per image (forward + backward, counted by ``torch.utils.flop_counter``) times images/s,
   as a share of this machine's fp32 matmul peak measured in the same run; for the small colorizer
   also NCHW, ``--compile`` and (on CUDA) bf16 autocast, interleaved with the default, and each of
   its convolutions' forward, input-gradient and weight-gradient kernels timed alone.
3. The data path: JPEG decoding (first run) vs the uint8 cache (later runs) vs in memory (later
   epochs), and the share of a training step spent waiting for data after the first epoch.
4. The inception experiment's epoch time with the frozen-feature cache vs running the frozen
   encoder every step (a few encoder batches measured, extrapolated to an epoch).
5. Peak resident memory of each experiment's run at the report's settings (read from the run
   store) and the memory of the preprocessed data sets.
6. Wall time of the whole report: the run store's recorded times; ``--full`` reruns the report
   into a temporary run store and times it (sections 5 and 6 then read that store).

The default mode takes a few minutes on 2 CPU cores; ``--quick`` (a smoke test, about a minute)
uses synthetic images of the right shapes, batch 4 and 2 rounds, skips ``torch.compile`` and
writes under RUNS_DIR/quick/ unless ``--out`` is given.
"""
import argparse
import datetime
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
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
from ..training.cli import device as device_arg, positive_int, user_errors_exit, writable_folder
from ..data import IMAGE_SIZE, ColorizationDataset, ReconstructionDataset, builtin, load_paintings
from ..data import fruit_render
from ..data.features import FeatureDataset
from ..data.fruits360 import DEFAULT_CLASSES
from ..data.noise import SaltPepperDataset
from ..models import build_model, load_encoder
from ..models.inception import FEATURES
from ..training.runs import peak_rss_mb, resolve_device
from ..training.trial import LOSSES, OPTIMIZERS, TaskData, build_trial

# targets of issue 6
TARGET_RATIO, TARGET_PEAK, TARGET_WAIT, TARGET_CACHE, TARGET_REPORT_MIN = 0.95, 0.70, 0.05, 5.0, 45.0
PAINTINGS_TRAIN, PAINTINGS_TEST = builtin.default_sizes()  # the report's epoch on the built-in set
FRUITS_TRAIN = DEFAULT_CLASSES * fruit_render.TRAIN_PER_CLASS
FRUITS_TEST = DEFAULT_CLASSES * fruit_render.TEST_PER_CLASS
INCEPTION_EPOCHS = 10


@dataclass
class Config:
    quick: bool
    batch: int  # batch size of every measurement (the report's 32)
    steps: int  # batches per timed round
    rounds: int  # timed rounds per runner, after one warm-up round
    compile: bool  # measure the small colorizer with --compile
    jpegs: int  # JPEG files decoded in the data-path section
    jpeg_size: tuple  # their width, height
    encoder_batches: int  # frozen-encoder batches timed in section 4
    matmul_n: int = 2048
    matmul_reps: int = 8


def config(args):
    if args.quick:
        cfg = Config(quick=True, batch=4, steps=2, rounds=2, compile=False, jpegs=8, jpeg_size=(320, 240),
                     encoder_batches=1, matmul_reps=3)
    else:
        cfg = Config(quick=False, batch=32, steps=4, rounds=8, compile=True, jpegs=64, jpeg_size=(1024, 768),
                     encoder_batches=2)
    overrides = {k: v for k, v in (("batch", args.batch_size), ("steps", args.steps), ("rounds", args.rounds))
                 if v is not None}
    if args.no_compile:
        overrides["compile"] = False
    return replace(cfg, **overrides)


# --- timing ----------------------------------------------------------------------------------------

def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass
class Sample:
    """One timed round (an epoch of a few batches): ``images`` trained in ``seconds`` (the training
    pass), ``wait`` of which went to fetching batches and ``startup`` of that to starting the data
    iterator (worker processes, if any); ``overhead`` is the rest of the Trial's epoch (callbacks,
    log, checkpoint). ``startup`` and ``overhead`` are paid once per epoch, the rest per image."""
    images: int
    seconds: float
    wait: float
    startup: float
    overhead: float = 0.0

    @property
    def rate(self):
        """Images/s once the epoch runs: the training pass without the iterator's start."""
        return self.images / (self.seconds - self.startup)

    @property
    def fixed(self):
        """Seconds paid once per epoch."""
        return self.startup + self.overhead


class TimedLoader:
    """The first ``steps`` batches of ``loader``, timing how long each one takes to arrive."""

    def __init__(self, loader, steps):
        self.loader, self.steps = loader, min(steps, len(loader))
        self.reset()

    def __len__(self):
        return self.steps

    def reset(self):
        self.wait, self.startup, self.images = 0.0, 0.0, 0

    def __iter__(self):
        start = time.perf_counter()
        iterator = iter(self.loader)  # worker processes start here
        self.startup = time.perf_counter() - start
        self.wait += self.startup
        for _ in range(self.steps):
            start = time.perf_counter()
            batch = next(iterator)
            self.wait += time.perf_counter() - start
            self.images += len(batch[0])
            yield batch


class PassTimer(Callback):
    """Times torchbearer's training pass (first batch fetched to last step done) within an epoch."""

    def __init__(self, device):
        self.device, self.seconds, self.start = device, 0.0, 0.0

    def on_start_training(self, state):
        synchronize(self.device)
        self.start = time.perf_counter()

    def on_end_training(self, state):
        synchronize(self.device)
        self.seconds = time.perf_counter() - self.start


class TrialRunner:
    """One epoch of ``cfg.steps`` batches per call through the project's Trial (``build_trial``: the
    run's own callbacks, CSV log and atomic checkpoint), validation switched off."""

    def __init__(self, spec, data, directory, cfg, device, loader=None, **trial_options):
        self.device, self.timer = device, PassTimer(device)
        directory.mkdir(parents=True, exist_ok=True)
        self.trial, self.model = build_trial(spec, data, directory, seed=0, device=device, verbose=0,
                                             callbacks=[self.timer], **trial_options)
        self.loader = TimedLoader(loader or self.trial.state[torchbearer.TRAIN_GENERATOR], cfg.steps)
        self.trial.with_train_generator(self.loader, steps=len(self.loader))
        self.trial.state[torchbearer.VALIDATION_GENERATOR] = None
        self.trial.state[torchbearer.VALIDATION_STEPS] = None
        self.epochs = 0

    def __call__(self):
        self.loader.reset()
        self.epochs += 1
        start = time.perf_counter()
        self.trial.run(self.epochs, verbose=0)
        synchronize(self.device)
        total = time.perf_counter() - start
        return Sample(self.loader.images, self.timer.seconds, self.loader.wait, self.loader.startup,
                      max(total - self.timer.seconds, 0.0))


class HandRunner:
    """The same training as a plain PyTorch loop: the model built the same way, the same optimizer,
    loss (the VAE: summed MSE + beta x the same KL), data loader and batch size; no callbacks."""

    def __init__(self, spec, data, loader, cfg, device, channels_last=True):
        torch.manual_seed(0)
        model = build_model(spec.model, **spec.model_kwargs)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.model = model.to(device)
        self.optimizer = OPTIMIZERS[spec.optimizer](self.model.parameters(), lr=spec.lr)
        self.criterion = data.criterion if data.criterion is not None else LOSSES[spec.loss]()
        self.beta, self.device = spec.beta, device
        self.loader = TimedLoader(loader, cfg.steps)

    def __call__(self):
        self.loader.reset()
        self.model.train()
        total = torch.zeros((), device=self.device)
        synchronize(self.device)
        start = time.perf_counter()
        for x, y in self.loader:
            x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
            self.optimizer.zero_grad()
            if self.beta is None:
                loss = self.criterion(self.model(x), y)
            else:
                codes = {}
                loss = self.criterion(self.model(x, codes), y) + self.beta * gaussian_kl(codes[MU], codes[LOGVAR])
            loss.backward()
            self.optimizer.step()
            total += loss.detach()
        total.item()  # one host synchronisation per round
        return Sample(self.loader.images, time.perf_counter() - start, self.loader.wait, self.loader.startup)


def interleave(runners, rounds):
    """One warm-up call of every runner (returned apart: compilation happens there), then ``rounds``
    calls each, the order rotated every round so that drift in machine load hits all alike."""
    names = list(runners)
    warm = {name: runners[name]() for name in names}
    samples = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(runners[name]())
    return warm, samples


def median_rate(samples):
    return statistics.median(s.rate for s in samples)


def median_fixed(samples):
    return statistics.median(s.fixed for s in samples)


def epoch_rate(samples, images):
    """Images/s of an epoch of ``images``: the per-image rate plus the per-epoch costs, spread."""
    return images / (images / median_rate(samples) + median_fixed(samples))


def wait_share(samples):
    """Share of the training pass spent waiting for batches, once the data iterator runs."""
    return sum(s.wait - s.startup for s in samples) / sum(s.seconds - s.startup for s in samples)


# --- data ------------------------------------------------------------------------------------------

def report_specs():
    """The report's runs, from the experiment modules themselves: ``{experiment: [RunSpec, ...]}``."""
    from experiments import deep, denoise, inception, lr_sweep, optimizers, unet, vae_fruits
    return {
        "lr_sweep": lr_sweep.specs(SimpleNamespace(lrs=lr_sweep.LEARNING_RATES)),
        "optimizers": optimizers.specs(SimpleNamespace(lr=optimizers.LR)),
        "deep": list(deep.SPECS), "inception": list(inception.SPECS), "unet": list(unet.SPECS),
        "denoise": list(denoise.SPECS), "vae_fruits": vae_fruits.specs(SimpleNamespace(beta=vae_fruits.BETA)),
    }


def bench_data(cfg, cache_dir):
    """Image arrays for the measurements: ``cfg.batch * cfg.steps`` images per set, from the built-in
    sets (cached in ``cache_dir``, a temporary folder), or random pixels of the same shapes in --quick."""
    n = cfg.batch * cfg.steps
    if cfg.quick:
        rng = np.random.default_rng(0)
        paintings = rng.integers(0, 256, (n, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
        fruits = rng.integers(0, 256, (n, fruit_render.SIZE, fruit_render.SIZE, 3), dtype=np.uint8)
        return paintings, fruits, "random pixels of the report's shapes (--quick)"
    paintings = load_paintings(None, cache_dir, limit=n).train
    fruits = fruit_render.builtin_fruit_splits(DEFAULT_CLASSES, cache_dir=cache_dir, limit=n).train
    return paintings, fruits, f"the first {n} training images of the built-in sets"


def model_cases(paintings, fruits):
    """(label, RunSpec, TaskData, images in the report's epoch) for every model of the report."""
    specs = report_specs()
    small = next(s for s in specs["lr_sweep"] if s.lr == 1e-3)
    colour = ColorizationDataset(paintings)
    features = torch.rand(len(colour), FEATURES)  # pooled inception features are >= 0
    fruit = ReconstructionDataset(fruits)

    def task(train, name):
        return TaskData(train, train, label="bench", fingerprint=f"bench-{name}")
    return [
        ("small", small, task(colour, "small"), PAINTINGS_TRAIN),
        ("deep", specs["deep"][0], task(colour, "deep"), PAINTINGS_TRAIN),
        ("U-net", specs["unet"][0], task(colour, "unet"), PAINTINGS_TRAIN),
        ("denoise", specs["denoise"][0], task(SaltPepperDataset(paintings, seed=0), "denoise"), PAINTINGS_TRAIN),
        ("inception decoder (cached features)", specs["inception"][0],
         task(FeatureDataset(features, colour), "inception"), PAINTINGS_TRAIN),
        ("beta-VAE", specs["vae_fruits"][0], task(fruit, "vae"), FRUITS_TRAIN),
    ]


# --- FLOPs and the matmul peak -----------------------------------------------------------------------

def flops_per_image(spec, dataset, n=2):
    """Forward + backward FLOPs of one training step per image (matmuls and convolutions, which is
    what ``FlopCounterMode`` counts), on the CPU: FLOPs do not depend on the device."""
    torch.manual_seed(0)
    model = build_model(spec.model, **spec.model_kwargs).train()
    x, y = default_collate([dataset[i] for i in range(n)])
    criterion = LOSSES[spec.loss]()
    with FlopCounterMode(display=False) as counter:
        if spec.beta is None:
            loss = criterion(model(x), y)
        else:
            codes = {}
            loss = criterion(model(x, codes), y) + spec.beta * gaussian_kl(codes[MU], codes[LOGVAR])
        loss.backward()
    return counter.get_total_flops() / n


def best_seconds(fn, device, reps):
    """The shortest of ``reps`` timed calls of ``fn`` on ``device``, after one untimed warm-up call."""
    fn()
    synchronize(device)
    best = math.inf
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best


def matmul_peak(device, n, reps):
    """The best fp32 GFLOP/s of ``reps`` n x n matmuls."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    out = torch.empty(n, n, device=device)
    return 2 * n ** 3 / best_seconds(lambda: torch.mm(a, b, out=out), device, reps) / 1e9


def conv_layers(cfg, device, images):
    """Where the small colorizer's step goes: each convolution's forward, input-gradient and
    weight-gradient kernels timed alone (best of 3) at the shapes a batch of ``cfg.batch`` gives it,
    channels_last as in training, with its GFLOP/s (2 x multiply-adds)."""
    torch.manual_seed(0)
    model = build_model("small").to(device, memory_format=torch.channels_last)
    inputs = {}

    def record(module, args, output):
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
            y = m(x)
        grad = torch.randn_like(y)
        taps = m.kernel_size[0] * m.kernel_size[1]
        flops = 2 * taps * (x.numel() * m.out_channels if transposed else y.numel() * m.in_channels)

        def backward(mask, m=m, x=x, grad=grad, transposed=transposed):
            return lambda: torch.ops.aten.convolution_backward(
                grad, x, m.weight, [m.out_channels], list(m.stride), list(m.padding), list(m.dilation), transposed,
                list(m.output_padding), m.groups, mask)
        with torch.no_grad():
            forward = best_seconds(lambda m=m, x=x: m(x), device, 3)
        rows.append(dict(layer=f"{'transposed conv' if transposed else 'conv'} {m.in_channels}->{m.out_channels}",
                         size=f"{x.shape[-1]} -> {y.shape[-1]}", flops=flops, forward=forward,
                         # the first layer's input is the image, which needs no gradient: not computed in training
                         input_grad=best_seconds(backward([True, False, False]), device, 3) if i else None,
                         weight_grad=best_seconds(backward([False, True, True]), device, 3)))
    return rows


# --- section 1 and 2 ---------------------------------------------------------------------------------

def measure_models(cfg, device, paintings, fruits, workdir, log):
    """Every model, Trial vs hand loop interleaved; the small colorizer with its variants and the
    matmul peak beside them. Returns the models' rows, the small colorizer's variants and the peaks."""
    rows, variants, peaks = [], [], []
    for label, spec, data, epoch_images in model_cases(paintings, fruits):
        spec = replace(spec, batch_size=cfg.batch)
        log(f"[bench] {label}: Trial vs hand-written loop, {cfg.rounds} rounds of {cfg.steps} batches of {cfg.batch}")
        directory = workdir / f"trial-{len(rows)}"
        trial = TrialRunner(spec, data, directory, cfg, device)
        runners = {"trial": trial, "hand": HandRunner(spec, data, trial.loader.loader, cfg, device)}
        extra = {}
        if label == "small":
            extra["NCHW (channels_last=False)"] = dict(channels_last=False)
            if cfg.compile:
                extra["--compile"] = dict(compile=True)
            if device.type == "cuda":
                extra["--bf16 (autocast)"] = dict(autocast=True)
        for i, (name, options) in enumerate(extra.items()):
            runners[name] = TrialRunner(spec, data, workdir / f"variant-{i}", cfg, device, **options)
        if label == "small":
            runners["matmul peak"] = lambda: matmul_peak(device, cfg.matmul_n, 2)
        warm, samples = interleave(runners, cfg.rounds)
        peaks += samples.pop("matmul peak", [])
        flops = flops_per_image(spec, data.train)
        trial_rate, hand_rate = median_rate(samples["trial"]), median_rate(samples["hand"])
        # Ratios pair each Trial round with the hand loop's round next to it in time (the machine's
        # load drifts over minutes), and the median of the pairs is taken.
        pairs = list(zip(samples["trial"], samples["hand"]))
        round_ratios = [t.rate / h.rate for t, h in pairs]
        epoch_ratio = statistics.median(epoch_rate([t], epoch_images) / epoch_rate([h], epoch_images) for t, h in pairs)
        rows.append(dict(model=label, batch=cfg.batch, trial=trial_rate, hand=hand_rate,
                         ratio=statistics.median(round_ratios),
                         ratio_min=min(round_ratios), ratio_max=max(round_ratios),
                         overhead=median_fixed(samples["trial"]), epoch_images=epoch_images,
                         epoch_trial=epoch_rate(samples["trial"], epoch_images), epoch_ratio=epoch_ratio,
                         wait=wait_share(samples["trial"]), flops=flops))
        if label == "small":
            variants.append(dict(name="defaults (channels_last, eager)", rate=trial_rate, flops=flops, first=None))
            for name in extra:
                median = median_rate(samples[name])
                first = warm[name].seconds + warm[name].fixed
                variants.append(dict(name=name, rate=median, flops=flops,
                                     first=first if name == "--compile" else None))
    return rows, variants, peaks


def denoise_with_worker(cfg, device, paintings, workdir):
    """The denoise Trial with its data loaded by 1 DataLoader worker process instead of in the main
    process (the default), interleaved with the default: does a worker hide the per-image noise?"""
    spec = replace(report_specs()["denoise"][0], batch_size=cfg.batch)
    runners = {}
    for name, workers in (("0 workers (default)", 0), ("1 worker", 1)):
        dataset = SaltPepperDataset(paintings, seed=0)
        data = TaskData(dataset, dataset, label="bench", fingerprint="bench-denoise")
        runner = TrialRunner(spec, data, workdir / f"workers-{workers}", cfg, device)
        if workers:
            base = runner.trial.state[torchbearer.TRAIN_GENERATOR].loader
            loader = DataLoader(dataset, batch_size=cfg.batch, sampler=base.sampler, num_workers=workers,
                                pin_memory=device.type == "cuda")
            runner.loader = TimedLoader(loader, cfg.steps)
            runner.trial.with_train_generator(runner.loader, steps=len(runner.loader))
        runners[name] = runner
    _, samples = interleave(runners, cfg.rounds)
    return [dict(name=name, rate=median_rate(s), wait=wait_share(s), startup=statistics.median(x.startup for x in s),
                 epoch=epoch_rate(s, PAINTINGS_TRAIN)) for name, s in samples.items()]


# --- section 3: the data path ------------------------------------------------------------------------

def write_jpegs(folder, count, size):
    """``count`` JPEGs (quality 90) of ``size`` (width, height), made from the built-in set's photos."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        crop, _ = builtin.make_crop("train", i, size=max(size))
        Image.fromarray(crop).resize(size, Image.Resampling.BICUBIC).save(folder / f"photo{i:04d}.jpg", quality=90)
    return folder


def data_path(cfg, workdir, small):
    """Decoding JPEGs (a first run), the uint8 cache (a later run's first epoch), deriving the gray
    inputs (once per run), and what they make of the small colorizer's epoch at the report's size."""
    folder = write_jpegs(workdir / "jpegs", cfg.jpegs, cfg.jpeg_size)
    cache = workdir / "jpeg-cache"
    start = time.perf_counter()
    splits = load_paintings(folder, cache)
    decode = time.perf_counter() - start
    start = time.perf_counter()
    splits = load_paintings(folder, cache)
    cached = time.perf_counter() - start
    start = time.perf_counter()
    ColorizationDataset(splits.train), ColorizationDataset(splits.test)
    gray = time.perf_counter() - start
    n = splits.n_train + splits.n_test
    per_image = dict(decode=decode / n, cached=cached / n, gray=gray / n)
    n_all = PAINTINGS_TRAIN + PAINTINGS_TEST
    train_epoch = PAINTINGS_TRAIN / small["trial"] + small["overhead"]
    epochs = {
        "first run, first epoch (decode every JPEG, derive gray, train)":
            PAINTINGS_TRAIN / (n_all * (per_image["decode"] + per_image["gray"]) + train_epoch),
        "later run, first epoch (uint8 cache, derive gray, train)":
            PAINTINGS_TRAIN / (n_all * (per_image["cached"] + per_image["gray"]) + train_epoch),
        "later epochs (images in memory)": PAINTINGS_TRAIN / train_epoch,
    }
    return dict(n=n, per_image=per_image, epochs=epochs)


# --- section 4: the inception feature cache ----------------------------------------------------------

def inception_cache(cfg, device, paintings, decoder_row, log):
    """Per-image cost of the frozen inception_v3 encoder (as the feature cache runs it: no_grad,
    channels_last), measured on ``cfg.encoder_batches`` batches, and the decoder's evaluation forward;
    extrapolated to the experiment's epoch (train + test split) with and without the cache."""
    log("[bench] inception: frozen encoder forward (random weights: same cost as the ImageNet ones)")
    encoder = load_encoder(None, seed=0).to(device, memory_format=torch.channels_last)
    gray = ColorizationDataset(paintings[:cfg.batch]).gray.to(device)
    with torch.no_grad():
        encoder(gray)  # warm-up
        synchronize(device)
        start = time.perf_counter()
        for _ in range(cfg.encoder_batches):
            features = encoder(gray)
        synchronize(device)
        encode = (time.perf_counter() - start) / (cfg.encoder_batches * len(gray))
        decoder = build_model("inception_decoder").to(device, memory_format=torch.channels_last).eval()
        decoder(features)
        synchronize(device)
        start = time.perf_counter()
        for _ in range(3):
            decoder(features)
        synchronize(device)
        decode_eval = (time.perf_counter() - start) / (3 * len(gray))
    with_cache = PAINTINGS_TRAIN / decoder_row["trial"] + decoder_row["overhead"] + PAINTINGS_TEST * decode_eval
    encoder_epoch = (PAINTINGS_TRAIN + PAINTINGS_TEST) * encode
    without = with_cache + encoder_epoch
    return dict(encode=encode, decode_eval=decode_eval, with_cache=with_cache, without=without,
                ratio=without / with_cache, measured_images=cfg.encoder_batches * len(gray),
                run_with=encoder_epoch + INCEPTION_EPOCHS * with_cache, run_without=INCEPTION_EPOCHS * without)


# --- sections 5 and 6: the run store ------------------------------------------------------------------

def _settings_key(spec, task):
    return (task, spec.model, tuple(sorted(spec.model_kwargs.items())), spec.optimizer, spec.lr, spec.epochs,
            spec.batch_size, spec.loss, spec.beta)


def stored_runs(runs_dir):
    """Finished runs of the report's experiments at the report's settings on the built-in data sets,
    one per run (the newest when several match): ``[(experiment, run name, result or None)]``."""
    tasks = {"inception": "colorize-inception", "denoise": "denoise", "vae_fruits": "reconstruct"}
    sizes = {"vae_fruits": FRUITS_TRAIN}
    found = {}
    for path in sorted(Path(runs_dir).glob("*/result.json")):
        try:
            result = json.loads(path.read_text())
            s = result["settings"]
            key = (s["task"], s["model"], tuple(sorted(s["model_kwargs"].items())), s["optimizer"], s["lr"],
                   s["epochs"], s["batch_size"], s["loss"], s.get("beta"))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if result.get("status") == "finished" and s.get("seed") == 0 and "autocast" not in s:
            found.setdefault(key, []).append(result)
    rows, seen = [], set()
    for experiment, specs in report_specs().items():
        for spec in specs:
            key = _settings_key(spec, tasks.get(experiment, "colorize"))
            if key in seen:  # the optimizer table's Adam row is the sweep's lr 0.001 run
                continue
            seen.add(key)
            n_train = sizes.get(experiment, PAINTINGS_TRAIN)
            matches = [r for r in found.get(key, []) if r.get("n_train") == n_train and "built-in" in r.get("data", "")]
            best = max(matches, key=lambda r: r.get("finished_at", "")) if matches else None
            rows.append((experiment, spec.name, best))
    return rows


def dataset_memory(paintings, fruits):
    """Bytes per image of each data set as the experiments hold it, times the report's image counts."""
    colour = ColorizationDataset(paintings[:1])
    fruit = ReconstructionDataset(fruits[:1])
    per = lambda t: t.element_size() * t[0].numel()  # noqa: E731
    n_paint, n_fruit = PAINTINGS_TRAIN + PAINTINGS_TEST, FRUITS_TRAIN + FRUITS_TEST
    return [
        ("paintings, colour (uint8)", n_paint, per(colour.colour) * n_paint, 4 * per(colour.colour) * n_paint),
        ("paintings, gray inputs (float32, derived once)", n_paint, per(colour.gray) * n_paint, None),
        ("inception features (float32, 2048 per image)", n_paint, 4 * FEATURES * n_paint, None),
        ("fruits (uint8)", n_fruit, per(fruit.images) * n_fruit, 4 * per(fruit.images) * n_fruit),
    ]


def full_report_argv(device_name, workdir, quick=False):
    """``experiments.report``'s options for the whole report (one seed, colour classification
    excluded) into a fresh run store, image cache and output folder under ``workdir``, so every run
    trains and every data set is built; with ``quick`` the report's own smoke test."""
    from experiments import report
    names = [name for name in report.NAMES if name != "color_classes"]
    return (["--only", ",".join(names), "--runs-dir", str(workdir / "report-runs"), "--out",
             str(workdir / "report-figures"), "--cache-dir", str(workdir / "report-cache"),
             "--device", device_name, "--verbose", "0"] + (["--quick"] if quick else []))


def full_report(device_name, workdir, quick, log):
    """Wall seconds of the whole report, run now (see ``full_report_argv``)."""
    from experiments import report
    argv = full_report_argv(device_name, workdir, quick)
    log(f"[bench] --full: python -m experiments.report {' '.join(argv)}")
    start = time.perf_counter()
    report.main(argv)
    return time.perf_counter() - start


# --- the document --------------------------------------------------------------------------------------

def num(value, digits=3):
    """A number for a table: ``digits`` significant digits, no exponent for ordinary sizes."""
    if value is None:
        return "not measured"
    if value == 0 or not math.isfinite(value):
        return str(value)
    return f"{value:.{max(digits - 1 - int(math.floor(math.log10(abs(value)))), 0)}f}"


def pct(value):
    return "not measured" if value is None else f"{100 * value:.1f} %"


def met(ok):
    return "not measured" if ok is None else ("yes" if ok else "**no**")


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def render(r, cfg):
    rows = r["models"]
    worst = min(rows, key=lambda row: row["epoch_ratio"])
    small = rows[0]
    default_peak = small["trial"] * small["flops"] / 1e9 / r["peak"]
    compiled = next((v for v in r["variants"] if v["name"] == "--compile"), None)
    compiled_peak = compiled["rate"] * compiled["flops"] / 1e9 / r["peak"] if compiled else None
    worst_wait = max(rows, key=lambda row: row["wait"])
    inc = r["inception"]
    present = [(e, n, res) for e, n, res in r["runs"] if res is not None]
    report_seconds = sum(res["seconds"] for _, _, res in present)
    all_runs = len(present) == len(r["runs"])
    peaks = [res.get("peak_rss_mb") for _, _, res in present if res.get("peak_rss_mb") is not None]
    epochs = r["data"]["epochs"]
    first, later = list(epochs.values())[0], list(epochs.values())[-1]
    report_minutes = r["full"] / 60 if r["full"] is not None else (report_seconds / 60 if all_runs else None)
    full_note = " of the report's --quick smoke run" if cfg.quick else ""
    if r["full"] is not None:
        wall = f"{report_minutes:.1f} min{full_note} (--full, measured now on {r['device']})"
    elif present:
        wall = (f"{report_seconds / 60:.1f} min: training time of the {len(present)} of {len(r['runs'])} runs in "
                f"the run store")
    else:
        wall = "not measured (no finished report run in the run store)"
    if r["gpu"] and r["device"].startswith("cuda"):
        gpu = f"measured on the CUDA GPU {r['gpu']} (every figure above)"
    elif r["gpu"]:
        gpu = f"a CUDA GPU ({r['gpu']}) is present but --device {r['device']} was asked for: no GPU figure was measured"
    else:
        gpu = "no CUDA GPU on this machine: no GPU figure was measured"

    summary = table(("#", "what", "target", "measured", "met"), [
        (1, "training images/s, project's Trial / hand-written loop (worst model; report-sized epoch, per-epoch "
            "checkpoint and log included)", f">= {TARGET_RATIO}",
         f"{num(worst['epoch_ratio'])} ({worst['model']}); training steps alone, worst "
         f"{num(min(x['ratio'] for x in rows))}",
         met(worst["epoch_ratio"] >= TARGET_RATIO)),
        ("2a", "small colorizer, achieved GFLOP/s / fp32 matmul peak, project defaults", f">= {TARGET_PEAK:.0%}",
         pct(default_peak), met(default_peak >= TARGET_PEAK)),
        ("2b", "small colorizer, the same with `--compile`", f">= {TARGET_PEAK:.0%}",
         pct(compiled_peak) if compiled else "not measured (--quick or --no-compile)",
         met(None if compiled_peak is None else compiled_peak >= TARGET_PEAK)),
        ("3a", "small colorizer images/s: first epoch of a first run (JPEG decode) vs later epochs", "",
         f"{num(first)} vs {num(later)}", "-"),
        ("3b", "share of a training step waiting for data after epoch 1 (worst model)", f"< {TARGET_WAIT:.0%}",
         f"{pct(worst_wait['wait'])} ({worst_wait['model']})", met(worst_wait["wait"] < TARGET_WAIT)),
        (4, "inception epoch time, without / with the frozen-feature cache", f">= {TARGET_CACHE:g}x",
         f"{inc['ratio']:.1f}x", met(inc["ratio"] >= TARGET_CACHE)),
        (5, "peak resident memory, largest experiment (run store); data sets as held (uint8 images)", "",
         (f"{max(peaks):.0f} MiB; " if peaks else "not measured; ")
         + f"{sum(m[2] for m in r['memory']) / 2 ** 20:.0f} MiB", "-"),
        (6, "wall time of the whole report (one seed, colour classification excluded)",
         f"< {TARGET_REPORT_MIN:g} min", wall,
         "- (smoke run)" if cfg.quick and r["full"] is not None
         else met(None if report_minutes is None else report_minutes < TARGET_REPORT_MIN)),
        (7, "GPU", "", gpu, "-"),
    ])

    s1 = table(("model", "batch", "Trial img/s", "hand loop img/s", "ratio (rounds min-max)",
                "Trial per-epoch cost s", "report epoch (images)", "ratio, report epoch"),
               [(x["model"], x["batch"], num(x["trial"]), num(x["hand"]),
                 f"{num(x['ratio'])} ({num(x['ratio_min'])}-{num(x['ratio_max'])})", num(x["overhead"], 2),
                 x["epoch_images"], num(x["epoch_ratio"])) for x in rows])
    s2 = table(("model", "GFLOP per image (fwd+bwd)", "Trial img/s", "achieved GFLOP/s", "share of matmul peak"),
               [(x["model"], num(x["flops"] / 1e9), num(x["trial"]), num(x["trial"] * x["flops"] / 1e9),
                 pct(x["trial"] * x["flops"] / 1e9 / r["peak"])) for x in rows])
    def kernel(seconds, flops):
        return "not needed" if seconds is None else f"{num(seconds * 1e3)} ({num(flops / seconds / 1e9)})"
    s2c = table(("layer", "size", "GFLOP", "forward ms (GFLOP/s)", "input gradient ms (GFLOP/s)",
                 "weight gradient ms (GFLOP/s)"),
                [(x["layer"], x["size"], num(x["flops"] / 1e9), kernel(x["forward"], x["flops"]),
                  kernel(x["input_grad"], x["flops"]), kernel(x["weight_grad"], x["flops"])) for x in r["layers"]])
    layer_ms = 1e3 * sum(x["forward"] + (x["input_grad"] or 0) + x["weight_grad"] for x in r["layers"])
    slow = [(f"{x['layer']} ({x['size']}) {name}", x[key]) for x in r["layers"]
            for key, name in (("forward", "forward"), ("input_grad", "input gradient"), ("weight_grad", "weight gradient"))
            if x[key] is not None and x["flops"] / x[key] / 1e9 < r["peak"] / 2]
    slow_text = ("none" if not slow else "; ".join(name for name, _ in slow)
                 + f": {num(1e3 * sum(t for _, t in slow))} ms of the {num(layer_ms)} ms")
    small_ms = 1e3 * cfg.batch / rows[0]["trial"]
    s2b = table(("small colorizer, Trial", "img/s", "achieved GFLOP/s", "share of matmul peak", "first epoch s"),
                [(v["name"], num(v["rate"]), num(v["rate"] * v["flops"] / 1e9),
                  pct(v["rate"] * v["flops"] / 1e9 / r["peak"]),
                  num(v["first"], 2) if v["first"] is not None else "") for v in r["variants"]])
    per = r["data"]["per_image"]
    s3a = table(("step", "images/s"), [
        (f"decode {r['data']['n']} JPEGs of {cfg.jpeg_size[0]} x {cfg.jpeg_size[1]} to 256 x 256 uint8 "
         "(first run; includes writing the cache)", num(1 / per["decode"])),
        ("load the same from the uint8 cache (later runs)", num(1 / per["cached"])),
        ("derive the gray inputs (once per run, not per epoch)", num(1 / per["gray"])),
    ])
    s3b = table(("small colorizer, report's epoch of built-in images", "images/s"),
                [(name, num(rate)) for name, rate in epochs.items()])
    s3c = table(("model", "data wait, share of the training pass"), [(x["model"], pct(x["wait"])) for x in rows])
    s3d = table(("denoise, DataLoader", "Trial img/s", "data wait", "iterator start per epoch s",
                 f"img/s over a report epoch ({PAINTINGS_TRAIN} images)"),
                [(w["name"], num(w["rate"]), pct(w["wait"]), num(w["startup"], 2), num(w["epoch"]))
                 for w in r["workers"]])
    s4 = table(("", "seconds"), [
        ("frozen encoder forward, per image (measured on "
         f"{inc['measured_images']} images)", num(inc["encode"], 3)),
        ("decoder evaluation forward, per image", num(inc["decode_eval"], 3)),
        (f"epoch with the cache ({PAINTINGS_TRAIN} train images on features + {PAINTINGS_TEST} test forwards)",
         num(inc["with_cache"])),
        ("epoch without the cache (the same + the encoder on every train and test image)", num(inc["without"])),
        (f"whole run of {INCEPTION_EPOCHS} epochs with the cache (one encoding pass first)", num(inc["run_with"])),
        (f"whole run of {INCEPTION_EPOCHS} epochs without it", num(inc["run_without"])),
    ])
    s5a = table(("experiment", "run", "peak RSS MiB"),
                [(e, n, f"{res['peak_rss_mb']:.0f}" if res and res.get("peak_rss_mb") is not None else "not measured")
                 for e, n, res in r["runs"]])
    s5b = table(("data set (report's size)", "images", "MiB as held", "MiB if float32"),
                [(name, n, f"{b / 2 ** 20:.0f}", f"{fl / 2 ** 20:.0f}" if fl else "")
                 for name, n, b, fl in r["memory"]])
    s6 = table(("experiment", "run", "seconds", "test loss", "finished at"),
               [(e, n, f"{res['seconds']:.0f}" if res else "missing", num(res.get("test_loss"), 4) if res else "",
                 res.get("finished_at", "") if res else "") for e, n, res in r["runs"]])
    span = ""
    if present:
        starts = [datetime.datetime.fromisoformat(res["finished_at"]) - datetime.timedelta(seconds=res["seconds"])
                  for _, _, res in present if res.get("finished_at")]
        ends = [datetime.datetime.fromisoformat(res["finished_at"]) for _, _, res in present if res.get("finished_at")]
        if starts:
            minutes = (max(ends) - min(starts)).total_seconds() / 60
            span = (f" From the first run's start to the last one's end {minutes:.1f} min passed (data "
                    "preparation, feature encoding, metrics and figures included, and any pause between commands).")

    return f"""# Benchmarks

Measured by `{r['command']}` on {r['date']} in {r['elapsed']:.0f} s: {r['machine']}.
Mode: {'--quick (a smoke test: synthetic images, batch 4; its numbers mean little)' if cfg.quick else 'default'};
{cfg.rounds} timed rounds of {cfg.steps} batches of {cfg.batch} per runner after one warm-up round, runners
interleaved (the order rotated each round); medians. Data: {r['data_label']}.

## Summary

{summary}

## 1. Training images/s: the project's Trial vs a hand-written loop

The Trial is the one `train()` builds (`training.build_trial`: the run's callbacks, CSV log and atomic
checkpoint after every epoch; validation off). The hand loop trains the same model (same seed,
channels_last) with the same optimizer, loss (the VAE: summed MSE + beta x the same KL), DataLoader and
batch size, and synchronises once per round. Images/s count the training pass once the data iterator
runs; the costs paid once per epoch (starting the iterator; the Trial's callbacks, log and checkpoint)
are measured apart and spread over the report's epoch in the last column. A ratio is the median over
the rounds of the Trial's round divided by the hand loop's round next to it in time. The inception decoder
trains on random feature vectors of the cached features' shape (N x 2048).

{s1}

## 2. Achieved FLOP/s against this machine's fp32 matmul peak

fp32 matmul peak: {num(r['peak'])} GFLOP/s, the best {cfg.matmul_n} x {cfg.matmul_n} matmul of
{len(r['peaks'])} measurements (before the models, between the small colorizer's rounds and at the end;
their bests ranged {num(min(r['peaks']))}-{num(r['peak'])} GFLOP/s). FLOPs per image: one
training step (forward + backward) counted by `torch.utils.flop_counter.FlopCounterMode` (convolutions and
matmuls; elementwise work and the optimizer are not counted).

{s2}

The small colorizer's variants, interleaved with the default in the same rounds (`--compile` compiles
during its first epoch; its time is in the last column):

{s2b}

Where the small colorizer's step goes: each convolution's kernels timed alone at a batch of {cfg.batch}
(channels_last, best of 3, the kernels oneDNN picks for fp32).

{s2c}

Sum of the kernels: {num(layer_ms)} ms per batch of {cfg.batch}, against {num(small_ms)} ms per step in the Trial
({num(100 * layer_ms / small_ms)} %; the rest is the loss, ReLU and sigmoid, the optimizer and the data).
Below half the matmul peak: {slow_text}.

## 3. The data path

{s3a}

What that makes of the small colorizer's epoch (extrapolated from the per-image costs above and the
Trial's images/s and per-epoch cost):

{s3b}

Share of the training pass spent waiting for the next batch after the first epoch (images are in
memory then; the project's DataLoader loads in the main process, no workers):

{s3c}

The denoising data set draws salt-and-pepper noise per image on the fly (`skimage.util.random_noise`);
the same Trial with one DataLoader worker process, interleaved:

{s3d}

## 4. The inception experiment: frozen-feature cache vs encoder every step

The encoder is random here (no network for the ImageNet weights; same architecture, same cost). It
runs as the cache runs it (no_grad, channels_last); {inc['measured_images']} images were timed and
extrapolated to the experiment's epoch of {PAINTINGS_TRAIN} train + {PAINTINGS_TEST} test images; the
decoder's training rate is section 1's. Without the cache an epoch is {inc['ratio']:.1f}x slower.

{s4}

## 5. Memory

Peak resident memory recorded by each finished run at the report's settings (`peak_rss_mb` in its
result.json in {r['runs_dir']}: the process's peak when the run finished, so it includes whatever that
process ran before it). This benchmark process peaked at {num(r['bench_rss'])} MiB.

{s5a}

Preprocessed data sets at the report's sizes, as the experiments hold them (bytes per image measured on
the data set objects, times the image counts):

{s5b}

## 6. Wall time of the whole report

`python -m experiments.report` at the report's settings, one seed, colour classification excluded, on
the built-in data sets. Training seconds recorded by the runs in {r['runs_dir']} (they exclude data
preparation, feature encoding, metrics and figures).{span}
{f"Measured now with --full: {num(r['full'] / 60)} min{full_note} on {r['device']}, into a fresh run store "
 "and image cache (data sets built, features encoded, every run trained)." if r['full'] is not None
 else 'Rerun and timed only with --full.'}

{s6}

Sum: {report_seconds / 60:.1f} min over {len(present)} of {len(r['runs'])} runs{'' if all_runs else ' (incomplete)'}.

## GPU

{gpu}.
"""


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


def run(args, log=print):
    """Measure everything; returns the raw numbers (``render`` turns them into the document)."""
    cfg = config(args)
    device = resolve_device(args.device)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tbc-bench-") as tmp:
        workdir = Path(tmp)
        log(f"[bench] {'quick' if cfg.quick else 'default'} mode on {device}; temporary files in {workdir}")
        peaks = [matmul_peak(device, cfg.matmul_n, cfg.matmul_reps)]
        paintings, fruits, data_label = bench_data(cfg, workdir / "cache")
        models, variants, during = measure_models(cfg, device, paintings, fruits, workdir, log)
        peaks += during
        log("[bench] denoise with a DataLoader worker")
        workers = denoise_with_worker(cfg, device, paintings, workdir)
        log("[bench] data path: decoding JPEGs vs the cache")
        data = data_path(cfg, workdir, models[0])
        decoder = next(row for row in models if row["model"].startswith("inception"))
        inception = inception_cache(cfg, device, paintings, decoder, log)
        log("[bench] the small colorizer's convolutions one by one")
        layers = conv_layers(cfg, device, paintings)
        peaks.append(matmul_peak(device, cfg.matmul_n, cfg.matmul_reps))
        full = full_report(args.device, workdir, cfg.quick, log) if args.full else None
        # --full: sections 5 and 6 read the runs just trained (on this machine now, into a fresh store)
        runs_dir = workdir / "report-runs" if args.full else args.runs_dir
        runs = stored_runs(runs_dir)
    return dict(
        command="python -m torchbearer_colorize.bench " + " ".join(args.argv),
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        machine=(f"{cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__} with {torch.get_num_threads()} "
                 f"threads, Python {platform.python_version()}, device {device}"),
        device=str(device) + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""),
        gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        data_label=data_label, models=models, variants=variants, layers=layers, workers=workers, data=data,
        inception=inception, peak=max(peaks), peaks=peaks, runs=runs,
        runs_dir="the fresh run store of --full" if args.full else f"`{args.runs_dir}`",
        memory=dataset_memory(paintings, fruits), full=full,
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
    print(text)
    print(f"written to {args.out}")
    return results, text


if __name__ == "__main__":
    main()
