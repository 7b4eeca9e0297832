"""Retrieval benchmarks: datasets, metrics and runners."""
