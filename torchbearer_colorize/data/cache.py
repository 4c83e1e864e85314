"""Preprocessed images kept as uint8 ``.npy`` files, so JPEGs are decoded once per machine."""
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from ..atomic import atomic_path

CACHE_ENV = "TORCHBEARER_COLORIZE_CACHE"


def default_cache_dir():
    """``$TORCHBEARER_COLORIZE_CACHE``, else ``$XDG_CACHE_HOME/torchbearer-colorize``, else ``~/.cache/...``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "torchbearer-colorize"


def fingerprint(*parts):
    """A short stable hash of JSON-able ``parts``."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def cached_array(cache_dir, name, key, build):
    """``(array, meta)`` from ``cache_dir/name-key.npy``; on a miss ``build()`` gives them (a uint8 array and
    JSON-able meta), written atomically. Under torchrun rank 0 goes first; the other ranks then read its entry.
    """
    from ..distributed import main_first  # torch: imported here, so that --help can read CACHE_ENV without it

    cache_dir = Path(cache_dir)
    array_path, meta_path = cache_dir / f"{name}-{key}.npy", cache_dir / f"{name}-{key}.json"
    with main_first():
        if array_path.exists() and meta_path.exists():
            try:
                return np.load(array_path), json.loads(meta_path.read_text())
            except (OSError, ValueError):
                pass  # a corrupt entry is rebuilt below
        array, meta = build()
        try:
            with atomic_path(array_path) as tmp:
                with open(tmp, "wb") as fh:
                    np.save(fh, array)
            with atomic_path(meta_path) as tmp:
                tmp.write_text(json.dumps(meta))
        except OSError as err:  # a read-only cache only costs speed
            print(f"warning: could not write the image cache in {cache_dir} ({err}); continuing without it")
        return array, meta
