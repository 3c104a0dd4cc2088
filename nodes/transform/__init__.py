"""Transform nodes: select columns, normalize, split."""
