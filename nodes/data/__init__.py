"""Data nodes: sample datasets, CSV import, and the table checks other nodes share."""
