"""Benchmarks: Byline against the plain llama-index pipeline (see README.md here)."""
