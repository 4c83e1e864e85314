"""``python -m torchbearer_colorize.fidelity``: kept where it was; renders docs/fidelity.md from report/fidelity.md."""
from .report.fidelity import main

if __name__ == "__main__":
    main()
