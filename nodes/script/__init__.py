"""Nodes that run user-supplied code (only in trusted workflows)."""
