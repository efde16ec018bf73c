"""Helpers for tools/gen_sample_logs.py (deterministic sample logs for leaktrail)."""
