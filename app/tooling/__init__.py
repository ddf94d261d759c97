"""Benchmarks, the soak test and evaluations: tooling beside the product, not part of it.

Each takes its data folder as an argument."""
