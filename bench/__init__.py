"""Benchmarks and evaluations behind `make bench` and `make eval`; each prints a table and writes reports/*.json."""
