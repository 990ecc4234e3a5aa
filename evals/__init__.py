"""Measurements of fixloop: benchmarks now, replayed-incident evals next."""
