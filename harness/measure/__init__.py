"""Measure stage: build (or reuse) the firmware, run it on a target, collect counts in their unit.
`device.py` speaks the framed protocol, `mlperf.py` the MLPerf Tiny runner's; `records.py` the
typed records they hand on."""

from harness.measure.device import run_on_device
from harness.measure.records import DeviceRun, Received

__all__ = ["DeviceRun", "Received", "run_on_device"]
