"""Benchmarks: `python -m benchmarks [name ...]` runs them and writes benchmarks/results/<name>.md."""
