"""Text nodes: preprocessing, vectorizing and indexing words."""
