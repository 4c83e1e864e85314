"""``python -m torchbearer_colorize.colorize``: kept where it was; the tool lives in :mod:`.tools.colorize`."""
from .tools.colorize import Colorizer, load_colorizer, main

__all__ = ["Colorizer", "load_colorizer", "main"]

if __name__ == "__main__":
    main()
