"""Benchmarks for the performance targets of docs/performance.md.

Each module runs on its own (`python -m bench.NAME`), prints a table and writes
`bench/results/NAME.json`. A MISS is reported, never raised: benchmarks are
not tests.
"""
