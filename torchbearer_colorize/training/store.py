"""The run store as it travels with the repository: what a finished run keeps, the check every reuse
makes, and merging two stores (two machines, or a Colab session's store and yours).

A finished run's folder keeps ``result.json`` (settings, per-epoch history, final numbers, timing, the
machine and library versions that trained it) and ``model.pt`` (the trained weights), plus
``metrics.json``, the measures computed from ``model.pt``. What training leaves beside them
(``checkpoint.pt`` with the optimizer state, ``log.csv``, ``.lock``) stays out of git (``.gitignore``).

    python -m torchbearer_colorize.training.store check [RUNS_DIR]
    python -m torchbearer_colorize.training.store merge SOURCE [SOURCE ...] [--into RUNS_DIR]
"""
import argparse
import gzip
import io
import json
import shutil
import sys
import warnings
from pathlib import Path

import torch

from ..atomic import atomic_path
from ..errors import UserError
from ..models import build_model

# weight tensors above this many values are stored in float16, above the second in 8 bits (see save_model)
HALF, EIGHT_BIT = 2 ** 17, 2 ** 20
KEPT = ("model.pt", "metrics.json", "result.json")  # result.json last: its presence means complete
REFERENCES = "references"  # the baseline and ground-truth measures, one file per data set


class BrokenRun(UserError):
    """A store entry that cannot be reused as it is: truncated, a file missing, weights that do not fit."""


def fix(directory):
    return f"retrain it with --force, or delete {directory}"


def plain(value):
    """``value`` as JSON gives it back (tuples become lists), so saved and stored settings compare."""
    return json.loads(json.dumps(value))


def save_model(path, spec, model):
    """Weights plus what rebuilds the model, gzip-compressed; :func:`load_saved` reads it back.

    So that three seeds of every run fit the committed store, a weight tensor of more than ``EIGHT_BIT``
    values is stored in 8 bits with one scale per slice of its first dimension (only the inception
    decoder's first layer, 2048 x 64 x 8 x 8: 32 MB in float32, 8 MB so), one of more than ``HALF`` in
    float16 (the VAE's three 200,000-value layers); the small colorizers keep float32. Every measure
    and figure is computed from what is stored (docs/run-store.md says how little it moves)."""
    state, scales, halves = {}, {}, []
    for name, value in model.state_dict().items():
        value = value.detach().cpu()
        if value.is_floating_point() and value.numel() > EIGHT_BIT:
            scales[name] = value.abs().flatten(1).amax(1).clamp_min(1e-30) / 127
            value = torch.round(value / slices(scales[name], value)).to(torch.int8)
        elif value.is_floating_point() and value.numel() > HALF:
            value = value.half()
            halves.append(name)
        state[name] = value
    buffer = io.BytesIO()
    torch.save({"model": spec.model, "model_kwargs": dict(spec.model_kwargs), "state_dict": state,
                **({"int8_scales": scales} if scales else {}), **({"float16": halves} if halves else {})}, buffer)
    with atomic_path(path) as tmp:  # gzip: 17 % off the 8-bit layer, 8 % off float weights (mtime 0: same bytes)
        tmp.write_bytes(gzip.compress(buffer.getvalue(), compresslevel=9, mtime=0))


def load_saved(path):
    """What :func:`save_model` wrote to ``path`` (gzip-compressed ``torch.save``; an uncompressed one too), read
    with ``torch.load(weights_only=True)``: tensors and plain data only."""
    data = Path(path).read_bytes()
    if data[:2] == b"\x1f\x8b":  # gzip's magic number
        data = gzip.decompress(data)
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def slices(scale, value):
    return scale.view(-1, *(1,) * (value.dim() - 1))


def weights(saved):
    """The float state dict of what :func:`save_model` wrote."""
    state = dict(saved["state_dict"])
    for name, scale in saved.get("int8_scales", {}).items():
        state[name] = state[name].float() * slices(scale, state[name])
    for name in saved.get("float16", ()):
        state[name] = state[name].float()
    return state


def read_model(path):
    """``(saved, model)``: what ``path`` (a run's ``model.pt``) holds and the model it rebuilds;
    ``BrokenRun`` naming the file when it is missing, unreadable or holds weights of another shape."""
    path = Path(path)
    if not path.is_file():
        raise BrokenRun(f"{path.parent}: model.pt is missing; {fix(path.parent)}")
    try:
        with warnings.catch_warnings():  # torch's own warning about the same failure adds nothing
            warnings.simplefilter("ignore")
            saved = load_saved(path)
        model = build_model(saved["model"], **saved["model_kwargs"])
        model.load_state_dict(weights(saved))
    except Exception as err:  # noqa: BLE001 - truncated, not a model file, or weights of another model
        reason = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise BrokenRun(f"{path}: not a model this package saved, or truncated ({reason}); {fix(path.parent)}") from None
    return saved, model


def load_model(path, device="cpu"):
    """The trained model saved in ``path``, in eval mode (see :func:`read_model`)."""
    return read_model(path)[1].to(device).eval()


def stored_result(directory, settings=None):
    """A finished run's ``result.json``, checked before it is reused: readable, for ``settings`` (when
    given), and with a ``model.pt`` that loads into the model those settings name."""
    directory = Path(directory)
    try:
        result = json.loads((directory / "result.json").read_text())
        stored = result["settings"]
        result["history"], result["test_loss"]  # noqa: B018 - present in every finished run
    except (OSError, ValueError, KeyError, TypeError):
        raise BrokenRun(f"{directory}: result.json is truncated or not a finished run's; {fix(directory)}") from None
    if settings is not None and stored != plain(settings):
        raise BrokenRun(f"{directory}: result.json holds another run's settings (copied by hand?); {fix(directory)}")
    saved, _ = read_model(directory / "model.pt")
    if (saved["model"], plain(saved["model_kwargs"])) != (stored["model"], stored["model_kwargs"]):
        raise BrokenRun(f"{directory}: model.pt holds a {saved['model']!r} model, the run is a {stored['model']!r} "
                        f"one; {fix(directory)}")
    return result


def finished_runs(runs_dir):
    return sorted(path.parent for path in Path(runs_dir).glob("*/result.json"))


def check(runs_dir):
    """Every finished run of ``runs_dir`` checked; returns their number, raises on the first broken one."""
    runs = finished_runs(runs_dir)
    for directory in runs:
        stored_result(directory)
    return len(runs)


def merge(sources, into):
    """Copy into ``into`` every finished run of ``sources`` that it lacks (what ``KEPT`` names); a run
    both hold is kept once, ``into``'s. Every source run is checked before anything is copied.
    Returns ``(copied, already_there)``."""
    into = Path(into)
    runs = [directory for source in sources for directory in finished_runs(source)]
    for directory in runs:
        stored_result(directory)
    copied = present = 0
    for directory in runs:
        target = into / directory.name
        if (target / "result.json").exists():
            present += 1
            continue
        for name in KEPT:  # an unfinished run's folder there is completed, result.json last
            if (directory / name).exists():
                copy_file(directory / name, target / name)
        copied += 1
    for source in sources:
        for reference in sorted((Path(source) / REFERENCES).glob("*.json")):
            if not (into / REFERENCES / reference.name).exists():
                copy_file(reference, into / REFERENCES / reference.name)
    return copied, present


def copy_file(source, target):
    """Copy ``source`` to ``target`` atomically, its folder made if needed."""
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m torchbearer_colorize.training.store", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    checking = commands.add_parser("check", help="check every finished run of a store")
    checking.add_argument("runs_dir", nargs="?", type=Path, default=Path("runs"))
    merging = commands.add_parser("merge", help="copy the finished runs of other stores into one")
    merging.add_argument("sources", nargs="+", type=Path)
    merging.add_argument("--into", type=Path, default=Path("runs"), help="the store to complete (default: runs/)")
    args = parser.parse_args(argv)
    try:
        for folder in [args.runs_dir] if args.command == "check" else args.sources:
            if not folder.is_dir():
                raise UserError(f"{folder} is not a folder (give a run store such as runs/)")
        if args.command == "check":
            print(f"{args.runs_dir}: {check(args.runs_dir)} finished run(s), all readable")
        else:
            copied, present = merge(args.sources, args.into)
            print(f"{args.into}: {copied} run(s) copied, {present} already there")
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
