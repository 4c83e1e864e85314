"""Training one run: :func:`train` builds the experiment module's torchbearer Trial and runs it (``trial.run``),
or reuses the stored run. A run is identified by its settings and stored under the runs folder.

A finished run is never trained twice: its ``result.json`` (settings, per-epoch losses, final
numbers, status, timing, versions) and ``model.pt`` are reused; an unfinished one resumes from its
last epoch checkpoint. What every run's Trial shares (its loaders and the store's callbacks) is
:class:`Run`'s; what several processes, ``--compile`` and ``--bf16`` change is :func:`.prepare.prepare`'s.
"""
import contextlib
import dataclasses
import datetime
import math
import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

try:
    import fcntl
    import resource
except ImportError:  # Windows
    fcntl = resource = None

import torch
import torchbearer
import torchvision
from torch.utils.data import DataLoader, Sampler
from tqdm import tqdm

from callbacks.checkpoint import AtomicCheckpoint, CheckpointRefused, load_checkpoint
from callbacks.divergence import StopOnNonFiniteLoss
from callbacks.epoch_log import EpochBar, EpochLog
from callbacks.epoch_seed import EpochSeed, derive_seed

from .. import __version__, distributed
from ..atomic import write_json
from ..data import batch_used
from ..data.cache import fingerprint
from ..data.tasks import small_splits_warning
from ..errors import UserError
from ..models import MODELS
from . import devices
from .prepare import bf16_refusal, prepare
from .store import save_model, stored_result
from .tensorboard import RunTensorBoard


@dataclass(frozen=True)
class RunSpec:
    """What one row of a report table trains, as its run is recorded: the experiment's Trial builds the model
    and optimizer these name (``train`` checks that it does)."""
    name: str  # the table's "run" column, e.g. "lr 0.001"
    model: str = "small"  # a key of ``models.MODELS``
    optimizer: str = "adam"  # the optimizer's class name, lower case
    lr: float = 1e-3
    epochs: int = 5
    batch_size: int = 32  # the global batch: under torchrun each of N processes takes about 1/N of it
    model_kwargs: dict = field(default_factory=dict)
    loss: str = "mse"  # "mse": a mean over pixels; "mse_sum": summed over pixels and batch (the VAE's)
    beta: float = None  # a beta-VAE's KL weight


class Run:
    """One run as its experiment's Trial function sees it: ``spec`` (lr, epochs, beta, ...), ``data``,
    ``seed`` and the run's ``directory``; and what every run's Trial shares, :meth:`callbacks` and :meth:`loaders`."""

    def __init__(self, spec, data, seed, directory):
        self.spec, self.data, self.seed, self.directory = spec, data, seed, Path(directory)
        self.sampler = EpochShuffleSampler(len(data.train), seed)

    def callbacks(self):
        """Reseed torch and the shuffling every epoch (a resumed run repeats an unbroken one), stop at a
        non-finite loss, log every epoch to ``log.csv`` and checkpoint it (only the process that writes does)."""
        log, writes = self.directory / "log.csv", distributed.is_main()
        return [EpochSeed(self.seed, self.sampler, self.data.train), StopOnNonFiniteLoss(),
                EpochLog(str(log) if writes else os.devnull, append=True, write_header=not log.exists()),
                AtomicCheckpoint(self.directory / "checkpoint.pt", enabled=writes)]

    def loaders(self):
        """The training loader, shuffled in an order fixed by (seed, epoch), and the test loader."""
        return (DataLoader(self.data.train, batch_size=self.spec.batch_size, sampler=self.sampler),
                DataLoader(self.data.test, batch_size=self.spec.batch_size))


class EpochShuffleSampler(Sampler):
    """Shuffles ``n`` indices in an order fixed by ``(seed, epoch)``; the epoch is set by ``EpochSeed``."""

    def __init__(self, n, seed):
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __iter__(self):
        generator = torch.Generator().manual_seed(derive_seed(self.seed, self.epoch))
        return iter(torch.randperm(self.n, generator=generator).tolist())

    def __len__(self):
        return self.n


def run_settings(spec, data, seed, autocast=False):
    """The settings that identify a run; two runs with equal settings are the same run.

    ``autocast`` (``--bf16``, on a GPU or a CPU with native bf16) changes the arithmetic, so it enters the
    settings, but only when on: the identity of fp32 runs stays what it always was. ``torch.compile`` does not
    enter them: it runs the same fp32 operations (only fused, so results may differ in the last bits, as with
    ``channels_last``), and its checkpoints are interchangeable with eager ones."""
    return {
        "task": data.task, "model": spec.model, "model_kwargs": spec.model_kwargs,
        "optimizer": spec.optimizer, "lr": spec.lr, "epochs": spec.epochs,
        "batch_size": spec.batch_size, "loss": spec.loss, "data": data.fingerprint, "seed": seed,
        **({"beta": spec.beta} if spec.beta is not None else {}),
        **({"autocast": "bf16"} if autocast else {}),
    }


def run_dir(runs_dir, settings):
    slug = (f"{settings['task']}-{settings['model']}-{settings['optimizer']}-lr{settings['lr']:g}"
            f"-e{settings['epochs']}-b{settings['batch_size']}-s{settings['seed']}")
    return Path(runs_dir) / f"{slug}-{fingerprint(settings)}"


def resolve_device(name="auto"):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def versions():
    return {"python": platform.python_version(), "torch": torch.__version__,
            "torchvision": torchvision.__version__, "torchbearer": torchbearer.__version__,
            "torchbearer_colorize": __version__}


@dataclass(frozen=True)
class TrainOptions:
    """How :func:`train` trains a run: the command line's ``--runs-dir``, ``--seed``, ``--device``, ``--force``,
    ``--verbose``, ``--compile``, ``--bf16`` and ``--tensorboard``; ``log`` prints its lines."""
    runs_dir: Path = Path("runs")
    seed: int = 0
    device: str = "auto"
    force: bool = False
    verbose: int = 1
    compile: bool = False
    bf16: bool = False  # part of a run's identity (run_settings); the other options are not
    tensorboard: Path = None  # a folder for <run folder> logs
    channels_last: bool = True
    log: Callable = print

    @classmethod
    def from_args(cls, args):
        """The options an experiment's command line gives (a ``--spread-over`` worker prefixes its lines)."""
        log = print
        if args.worker:
            def log(message):
                print(f"[worker {args.worker_index}, {args.device}] {message}", flush=True)
        return cls(runs_dir=args.runs_dir, seed=args.seed, device=args.device, force=args.force, verbose=args.verbose,
                   compile=args.compile, bf16=args.bf16, tensorboard=args.tensorboard, log=log)


def make_trial(trial, spec, data, directory, options=TrainOptions(device="cpu"), callbacks=()):
    """``(Trial, bare model)``: the experiment's ``trial(Run)`` built with torch seeded by ``options.seed``, checked
    against ``spec`` (the model and optimizer its run is recorded as), made ready for ``options.device`` by
    :func:`.prepare.prepare`, with ``callbacks`` (the benchmark's timers) and ``--tensorboard``'s appended last:
    a checkpoint resumes with or without them."""
    device = resolve_device(options.device)
    torch.manual_seed(options.seed)
    built = trial(Run(spec, data, options.seed, directory))
    model, optimizer = built.state[torchbearer.MODEL], built.state[torchbearer.OPTIMIZER]
    if (type(model), type(optimizer).__name__.lower(), optimizer.param_groups[0]["lr"]) != \
            (MODELS[spec.model], spec.optimizer, spec.lr):
        raise ValueError(f"[{spec.name}] the Trial trains a {type(model).__name__} with {type(optimizer).__name__} at "
                         f"lr {optimizer.param_groups[0]['lr']:g}; its run is recorded as {spec.model!r} with "
                         f"{spec.optimizer!r} at lr {spec.lr:g}")
    prepare(built, device, channels_last=options.channels_last, compile=options.compile, bf16=options.bf16)
    if options.tensorboard and distributed.is_main():
        callbacks = [*callbacks, RunTensorBoard(Path(options.tensorboard) / Path(directory).name, model, data, device)]
    built.state[torchbearer.CALLBACK_LIST].append(list(callbacks))
    return built, model


def train(spec, data, trial, options=TrainOptions()):
    """Train ``spec`` on ``data`` with the torchbearer Trial that ``trial(run)`` (the experiment module's
    function, given a :class:`Run`) returns, or reuse the stored run, and return its result dict.

    Of the ``options``, only ``bf16`` is part of the identity (:func:`run_settings`). Under torchrun all ranks
    train the run together (the global batch is the run's: the same stored run as on one process); rank 0
    alone decides (reuse, resume) and writes, the others return once its files are complete.
    """
    device = resolve_device(options.device)
    if options.bf16 and (problem := bf16_refusal(device)):
        raise UserError(problem)
    main = distributed.is_main()
    log, verbose = (options.log, options.verbose) if main else ((lambda *_: None), 0)
    settings = run_settings(spec, data, options.seed, autocast=options.bf16)
    directory = run_dir(options.runs_dir, settings)
    with run_lock(directory, main):
        if main and options.force:
            clear(directory)
        finished, resume = distributed.broadcast(((directory / "result.json").exists(),
                                               (directory / "checkpoint.pt").exists()))
        if finished:
            nothing = (f"; nothing logged to --tensorboard {options.tensorboard}: it logs runs as they train"
                       if options.tensorboard else "")
            log(f"[{spec.name}] reusing the finished run in {directory} (--force retrains){nothing}")
            # The name labels a table row; the same run may be a row of several tables.
            return {**stored_result(directory, settings), "run": spec.name}
        directory.mkdir(parents=True, exist_ok=True)
        built, model = make_trial(trial, spec, data, directory, options)
        resumed_from = resume_from_checkpoint(built, spec, directory, log) if resume else 0
        world = distributed.world_size()
        log(f"[{spec.name}] training {spec.model} with {spec.optimizer} lr {spec.lr:g}, {spec.epochs} "
            f"epoch{'' if spec.epochs == 1 else 's'}, "
            f"batch {batch_used(spec.batch_size, len(data.train))}, {len(data.train)} train / {len(data.test)} test "
            f"images on {device}"
            + "".join(f", {flag}" for flag, on in (("compiled", options.compile), ("bf16 autocast", options.bf16),
                                                    (f"{world} processes (DDP)", world > 1)) if on))
        start = time.perf_counter()
        try:
            if verbose == 1:  # torchbearer's epoch bar, counting a resumed run's epochs once
                built.state[torchbearer.CALLBACK_LIST].append([EpochBar()])
            history = built.run(spec.epochs, verbose=0 if verbose == 1 else verbose)
        except KeyboardInterrupt:  # say where the same command resumes: the last finished epoch's checkpoint
            for bar in list(getattr(tqdm, "_instances", ())):  # progress bars left open: end their lines first
                bar.close()
            epoch = len(built.state[torchbearer.HISTORY]) + 1
            raise KeyboardInterrupt(f"interrupted in [{spec.name}] epoch {epoch} of {spec.epochs}: rerun the same "
                                    f"command to resume from epoch {epoch} (finished runs are reused; this run is "
                                    f"in {directory})") from None
        epochs = [epoch_record(i + 1, h) for i, h in enumerate(history)]
        finite = all(math.isfinite(v) for e in epochs for v in e.values())
        result = {
            "run": spec.name, "settings": settings, "history": epochs,
            "status": "finished" if finite and len(epochs) == spec.epochs else "diverged",
            "test_loss": epochs[-1]["test_loss"] if epochs else float("nan"),
            "train_loss": epochs[-1]["train_loss"] if epochs else float("nan"),
            "data": data.label, "n_train": len(data.train), "n_test": len(data.test),
            "seconds": round(time.perf_counter() - start, 2), "resumed_from_epoch": resumed_from,
            "device": str(device), "threads": torch.get_num_threads(), "channels_last": options.channels_last,
            "compiled": bool(options.compile), "versions": versions(), "machine": machine(device),
            "peak_rss_mb": peak_rss_mb(),
            "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            **({"processes": world} if world > 1 else {}),
        }
        if main:
            save_model(directory / "model.pt", spec, model)
            write_json(directory / "result.json", result)  # written last: its presence means the run is complete
        distributed.barrier()  # no rank goes on (to read model.pt, say) before rank 0 has written it
    log(f"[{spec.name}] {result['status']} in {result['seconds']:.1f} s: test loss {result['test_loss']:.5g}, "
        f"train loss {result['train_loss']:.5g}")
    return result


def plan_runs(experiment, specs, data, args):
    """``specs`` as this command trains them (``--epochs`` and ``--batch-size`` applied), after saying where the
    outputs go. With ``--spread-over`` (:mod:`.devices`) one worker process per device trains them first (the
    loop that follows reuses them); a worker gets its share: the runs no other worker is training."""
    specs = [with_overrides(spec, epochs=args.epochs, batch_size=args.batch_size) for spec in specs]
    directories = [run_dir(args.runs_dir, run_settings(spec, data, args.seed, autocast=args.bf16)) for spec in specs]
    if args.worker:
        return devices.worker_share(specs, directories, args.worker_index)
    if distributed.is_main():  # where the outputs go, before hours of training
        print(f"[{experiment}] data: {data.label}; tables and figures go to {args.out}/, runs to "
              f"{args.runs_dir}/", flush=True)
        for batch_size in dict.fromkeys(spec.batch_size for spec in specs):
            if warning := small_splits_warning(batch_size, data):
                print(f"[{experiment}] {warning}", flush=True)
    if args.spread_over:
        if args.force:  # once, here: two workers given --force could each retrain a run the other just finished
            for directory in directories:
                with run_lock(directory):
                    clear(directory)
            args.force = False
        devices.spread(args, len(specs))
    return specs


def clear(directory):
    """``--force``: everything of a stored run but its lock, which this process holds."""
    for path in directory.iterdir() if directory.exists() else ():
        if path.is_dir():
            shutil.rmtree(path)
        elif path.name != ".lock":
            path.unlink()


def resume_from_checkpoint(trial, spec, directory, log):
    """Load the interrupted run's last epoch checkpoint into ``trial``; returns the epochs it had finished."""
    checkpoint = directory / "checkpoint.pt"
    try:
        load_checkpoint(trial, checkpoint, allowed=(RunTensorBoard,))  # resumes without --tensorboard too
    except CheckpointRefused as err:
        raise UserError(f"cannot resume {directory}: {checkpoint} holds {err.what} that is not allowed in a "
                        "checkpoint (only tensors, plain data, torchbearer's state keys and the run's callback "
                        "classes are, so loading it could run code); delete it or pass --force") from None
    epochs = len(trial.state[torchbearer.HISTORY])
    log(f"[{spec.name}] resuming after epoch {epochs} from {checkpoint}")
    return epochs


def machine(device):
    """What trained a run, for the report (not part of its identity: a run is the same run on any machine)."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
        cpu = names[0] if names else cpu
    gpu = {"gpu": torch.cuda.get_device_name(device)} if device.type == "cuda" else {}
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(terse=True), **gpu}


@contextlib.contextmanager
def run_lock(directory, holder=True):
    """Hold ``directory``'s run lock (``flock``, released when a process dies) while training it: another
    process that wants the same run (a ``--spread-over`` worker, a second job) waits, then reuses it, so a run is
    trained once. A no-op for ``holder=False`` (torchrun's ranks but 0) and without ``fcntl`` (Windows)."""
    if fcntl is None or not holder:
        yield
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle = open(directory / ".lock", "a")
    except OSError:  # a read-only store: nothing is trained there, so there is nothing to guard
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def peak_rss_mb():
    """This process's peak resident memory so far, in MiB (Linux reports KiB, macOS bytes); None on Windows."""
    if resource is None:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2 ** 20 if platform.system() == "Darwin" else 2 ** 10), 1)


def epoch_record(epoch, metrics):
    """One epoch of torchbearer's history as ``train_<metric>`` / ``test_<metric>`` floats."""
    record = {"epoch": epoch}
    for key, value in metrics.items():
        if key.startswith("running_") or key.endswith("_steps"):
            continue
        record[f"test_{key[4:]}" if key.startswith("val_") else f"train_{key}"] = float(value)
    return record


def with_overrides(spec, **overrides):
    """``spec`` with the non-None ``overrides`` applied (e.g. ``epochs`` from the command line)."""
    return dataclasses.replace(spec, **{k: v for k, v in overrides.items() if v is not None})
