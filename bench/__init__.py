"""Benchmarks: `make bench` runs them all (bench/run.py); scripts, never timed tests."""
