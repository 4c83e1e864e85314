"""What a reader sees: tables, figures, colour metrics, the report's numbers, verdicts, fidelity notes."""
