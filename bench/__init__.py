"""Benchmarks: one per heavy job, each against a peer in the same run (``make bench``)."""
