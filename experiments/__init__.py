"""One module per table of the report; run each with ``python -m experiments.<name>``."""
