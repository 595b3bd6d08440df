"""Benchmarks run by hand against a local PostgreSQL; results are in docs/benchmarks.md."""
