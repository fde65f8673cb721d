"""Measure stage: build (or reuse) the firmware, run it on a target, collect counts in their unit.
`device.py` speaks the framed protocol, `mlperf.py` the MLPerf Tiny runner's."""

from harness.measure.device import DeviceRun, Received, run_on_device

__all__ = ["DeviceRun", "Received", "run_on_device"]
