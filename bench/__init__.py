"""Benchmarks: model latency, serving under load, cold start. Run as ``python -m bench.<name>``; see README.md."""
