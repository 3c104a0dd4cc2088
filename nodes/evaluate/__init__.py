"""Evaluation nodes: metrics from a scored table."""
