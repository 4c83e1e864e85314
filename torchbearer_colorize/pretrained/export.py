"""Bundle a finished colorizer run as the package's colorizer (maintainers; ``runs/<run>`` of an experiment on the
built-in paintings):

    python -m torchbearer_colorize.pretrained.export runs/color-classes-small_ab-... [--cache-dir DIR]

Copies the run's ``model.pt`` unchanged to ``colorizer.pt`` beside this module and writes ``colorizer.json`` from
its ``result.json`` and its metrics. Only a run on the built-in paintings is taken, so that the tests can reproduce
its test loss here; which run to bundle: the one figures/REPORT.md's headline names as the best colour alone.
"""
import argparse
import json
from pathlib import Path

from .. import color_classes
from ..atomic import write_json
from ..data.cache import fingerprint
from ..data.paintings import load_paintings
from ..errors import UserError
from ..training.cli import user_errors_exit
from ..training.store import copy_file, load_model
from . import KINDS, NAME


def data_fingerprint(splits, task):
    """The data key a run of ``task`` on ``splits`` stores (the colour-classification targets have their own)."""
    return fingerprint(splits.fingerprint, "color-classes", color_classes.SETTINGS) if task == "color-classes" \
        else splits.fingerprint


def export(run, out=None, cache_dir=None):
    """Write ``NAME.pt`` and ``NAME.json`` into ``out`` (default: this package) from the finished run ``run``."""
    run, out = Path(run), Path(out) if out else Path(__file__).parent
    if not (run / "result.json").is_file() or not (run / "model.pt").is_file():
        raise UserError(f"{run} is not a finished run: it needs model.pt and result.json")
    result = json.loads((run / "result.json").read_text())
    settings = result["settings"]
    if settings["model"] not in KINDS or result["status"] != "finished":
        raise UserError(f"{run} holds a {result['status']} {settings['model']!r} run, not a finished colorizer one "
                        f"({', '.join(KINDS)})")
    limit = max(result["n_train"], result["n_test"])  # reproduces both split sizes of the built-in set
    if data_fingerprint(load_paintings(None, cache_dir, limit), settings["task"]) != settings["data"]:
        raise UserError(f"{run} was not trained on the built-in paintings ({result['data']})")
    model = load_model(run / "model.pt")
    annealed = run / f"metrics-annealed-T{color_classes.TEMPERATURE:g}.json"  # the classification's decode
    metrics = next((path for path in (run / "metrics.json", annealed) if path.is_file()), None)
    info = {"name": NAME, "run": run.name, "settings": settings, "data": result["data"], "limit": limit,
            "n_train": result["n_train"], "n_test": result["n_test"], "test_loss": result["test_loss"],
            "train_loss": result["train_loss"], "metrics": json.loads(metrics.read_text()) if metrics else {},
            "parameters": sum(p.numel() for p in model.parameters()), "versions": result["versions"],
            "finished_at": result["finished_at"]}
    weights, described = out / f"{NAME}.pt", out / f"{NAME}.json"
    copy_file(run / "model.pt", weights)
    write_json(described, info)
    return weights, described


@user_errors_exit
def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m torchbearer_colorize.pretrained.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a finished colorizer run folder (runs/color-classes-small_ab-...)")
    parser.add_argument("--out", type=Path, default=None, help="where to write (default: the package's folder)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="preprocessed-image cache")
    args = parser.parse_args(argv)
    for path in export(args.run, args.out, args.cache_dir):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
