"""``python -m torchbearer_colorize.fidelity``: kept where it was; the notes live in :mod:`.report.fidelity`."""
from .report.fidelity import main

if __name__ == "__main__":
    main()
