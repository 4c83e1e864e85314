#!/usr/bin/env python3
"""Set up a local virtual environment (.venv) when it is absent or stale, then run a job in it.

    python3 dev.py run [EXPERIMENT] [OPTIONS...]   # default: python -m experiments.lr_sweep
    python3 dev.py test [PYTEST OPTIONS...]        # the whole test suite

Only the Python standard library is needed to start; everything else is installed into .venv
with the versions pinned in constraints.txt.
"""
import hashlib
import os
import signal
import subprocess
import sys
import venv

try:
    import fcntl
except ImportError:  # Windows: no lock
    fcntl = None
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def setup():
    recipe = b"".join((ROOT / name).read_bytes() for name in ("setup.cfg", "constraints.txt"))
    stamp = VENV / f".installed-{hashlib.sha256(recipe).hexdigest()[:16]}"
    if stamp.exists():
        return
    with open(ROOT / ".venv.lock", "w") as lock:
        if fcntl:  # two commands started at once on a fresh checkout: the second waits for the first
            fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists():
            install(stamp)


def install(stamp):
    if not PYTHON.exists():
        print(f"creating a virtual environment in {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    print("installing the package and its dependencies (a few minutes; torch is large)", flush=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-c", str(ROOT / "constraints.txt"), "-e", f"{ROOT}[test]"], check=True)
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()


def experiments():
    """What ``dev.py run`` can start: the modules of experiments/ that have a ``main``."""
    return sorted(path.stem for path in (ROOT / "experiments").glob("*.py")
                  if path.stem != "__init__" and "\ndef main(" in path.read_text(encoding="utf-8"))


def main(argv):
    if sys.version_info < (3, 11):
        print(f"dev.py needs Python 3.11 or newer, not {sys.version.split()[0]}: run it with a newer python3",
              file=sys.stderr)
        sys.exit(2)
    if not argv or argv[0] not in ("run", "test"):
        sys.exit(__doc__)
    experiment = argv[1] if argv[0] == "run" and len(argv) > 1 and not argv[1].startswith("-") else "lr_sweep"
    if argv[0] == "run" and experiment not in experiments():
        print(f"dev.py: no experiment {experiment!r}; choose one of: {', '.join(experiments())}", file=sys.stderr)
        sys.exit(2)
    try:
        setup()
    except KeyboardInterrupt:
        print("interrupted while installing into .venv: rerun the same command to finish", file=sys.stderr)
        sys.exit(130)
    if argv[0] == "test":
        command = [str(PYTHON), "-m", "pytest", *argv[1:]]
    else:
        command = [str(PYTHON), "-m", f"experiments.{experiment}", *argv[2 if experiment in argv[1:2] else 1:]]
    print("+", " ".join(command[1:]), flush=True)
    # Ctrl-C reaches the job too, which says where a rerun resumes and exits 130: wait for it (a handler, not
    # SIG_IGN, which the job would inherit)
    signal.signal(signal.SIGINT, lambda *_: None)
    code = subprocess.run(command, cwd=ROOT).returncode
    sys.exit(code if code >= 0 else 128 - code)  # killed by signal N: 128 + N, as a shell says


if __name__ == "__main__":
    main(sys.argv[1:])
