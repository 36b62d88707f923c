"""The record of a run: its directory, result.json, metrics.csv, checkpoints and events."""
