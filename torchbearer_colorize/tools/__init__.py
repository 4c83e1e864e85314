"""Tools beside the report: colorize your own photos, the benchmark."""
