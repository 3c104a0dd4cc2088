"""The sample datasets shipped with Axon Studio: real data, one CSV and one
JSON sidecar (description, source, license, rows, columns, label, task,
SHA-256) per dataset. ``tools/make_sample_datasets.py`` wrote them.
"""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
