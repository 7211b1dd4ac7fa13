"""Benchmarks of johann.monitor and its lab; entry point ``python -m bench.run`` from the root (``make bench``)."""
