"""``python -m torchbearer_colorize.bench``: kept where it was; the benchmark lives in :mod:`.tools.bench`."""
from .tools.bench import main

if __name__ == "__main__":
    main()
