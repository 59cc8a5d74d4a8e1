"""Benchmarks for the design targets (DESIGN.md "Targets to design for").

Each module runs on its own (`python -m bench.NAME`), prints a table and writes
`bench/results/NAME.json`. A MISS is reported, never raised: benchmarks are
not tests.
"""
