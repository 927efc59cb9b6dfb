"""Benchmarks of extism-kernel against the official kernel and SDK: `python -m benchmarks`."""
