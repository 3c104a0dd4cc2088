"""Simulated hardware backends: SpiNNaker, Graphcore GC2, IBM PCM and ETA Compute TENSAI.

Each backend (one module each) compiles a trained network of dense layers
(:mod:`nodes.models.network`), runs it on rows with numerics that follow the
device, and returns predictions plus a
:class:`~nodes.hardware.report.HardwareReport`. The constants and their
sources are in :mod:`nodes.hardware.sources` and docs/hardware.md; backends
register themselves in :mod:`nodes.hardware.registry`, so Compare Hardware
takes reports of any of them. :mod:`nodes.hardware.training` offers
hardware-aware (noise-injection) training.
"""

from nodes.hardware.base import DeviceRun, HardwareBackend, HardwareNode, Scorer
from nodes.hardware.report import Assumption, HardwareReport

__all__ = ["Assumption", "DeviceRun", "HardwareBackend", "HardwareNode", "HardwareReport",
           "Scorer"]
