"""Benchmarks of johann.monitor and its lab; entry point ``bench/run.py`` (``make bench``)."""
