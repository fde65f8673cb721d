"""What the measure stage hands on, as typed records: what ran the firmware, the device's timer and
memory, the timing model's estimate, and the whole measurement (`DeviceRun`). `Received` gathers
them as the device answers, so a run that fails part-way keeps what already arrived; the row is
built from them at the end (`harness.pipeline.row`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.protocol.messages import MemoryReport


@dataclass(frozen=True)
class TargetFacts:
    """What ran the firmware: the target kind's columns (e.g. `qemu_version`) and the started target's
    own provenance (e.g. `renode_version`)."""

    kind: Mapping[str, Any] = field(default_factory=dict)
    started: Mapping[str, Any] = field(default_factory=dict)

    def columns(self) -> dict:
        return {**self.kind, **self.started}


@dataclass(frozen=True)
class TimerFacts:
    """The device's counter and the unit its counts are reported in (cycles | instructions)."""

    unit: str
    timer: str
    timer_hz: int
    timer_resolution: float  # in `unit`
    timer_overhead: float  # in `unit`, subtracted from every count
    firmware: str | None = None  # what the device's firmware says it is (None: it did not say)
    cpu_hz: int | None = None  # the clock the firmware set up

    def columns(self) -> dict:
        out = {"unit": self.unit, "timer": self.timer, "timer_hz": self.timer_hz,
               "timer_resolution": self.timer_resolution, "timer_overhead": self.timer_overhead}
        if self.firmware is not None or self.cpu_hz is not None:
            out.update(firmware=self.firmware, cpu_hz=self.cpu_hz)
        return out


@dataclass(frozen=True)
class MemoryMeasurement:
    """The device's memory report: arena and stack high-water marks, and the engine's own figures."""

    arena_nonpersistent_bytes: int
    stack_bytes: int
    stack_size_bytes: int
    arena_persistent_bytes: int | None
    engine: Mapping[str, Any] = field(default_factory=dict)  # Engine.memory_columns

    @classmethod
    def from_report(cls, memory: MemoryReport, engine) -> MemoryMeasurement:
        return cls(arena_nonpersistent_bytes=memory.arena_used_bytes, stack_bytes=memory.stack_used_bytes,
                   stack_size_bytes=memory.stack_size_bytes, arena_persistent_bytes=memory.persistent_used_bytes,
                   engine=engine.memory_columns(memory))

    def columns(self) -> dict:
        return {"arena_nonpersistent_bytes": self.arena_nonpersistent_bytes, "stack_bytes": self.stack_bytes,
                "stack_size_bytes": self.stack_size_bytes, "arena_persistent_bytes": self.arena_persistent_bytes,
                **self.engine}


@dataclass(frozen=True)
class MlperfSession:
    """The MLPerf Tiny runner's view of the device and the timed window."""

    device_name: str
    profile: str
    iterations: int
    warmup: int

    def columns(self) -> dict:
        return {"mlperf_device_name": self.device_name, "mlperf_profile": self.profile,
                "mlperf_iterations": self.iterations, "mlperf_warmup": self.warmup}


@dataclass(frozen=True)
class TimingEstimate:
    """A timing model's estimate of the run: its own columns (e.g. `cycles_est`, `latency_ms_est`,
    `energy_uj_est`, `timing_model`, `emulated_on`), and the per-layer profile with its per-layer
    estimate when the run had one. Never mixed with measured counts."""

    columns: Mapping[str, Any]

    @classmethod
    def of(cls, columns: Mapping[str, Any]) -> TimingEstimate | None:
        return cls(dict(columns)) if columns else None


@dataclass
class Received:
    """What the device has sent so far; the caller keeps it whatever happens next."""

    samples: list = field(default_factory=list)  # protocol Sample records, in order
    scale: object = None  # CountScale once IDENTIFY came back
    overhead_ticks: int = 0
    output_dtype: np.dtype | None = None
    target: TargetFacts | None = None  # once the target started
    mlperf: MlperfSession | None = None
    timer: TimerFacts | None = None  # once the device identified itself
    memory: MemoryMeasurement | None = None  # once it reported its memory


@dataclass(frozen=True, eq=False)
class DeviceRun:
    outputs: np.ndarray  # [N, output elements], the model's output dtype
    latency: list[float]  # per sample, in `unit`, timer overhead subtracted
    unit: str
    raw_latency: list[float] = field(default_factory=list)  # as counted, overhead included
    profiled: list[float] = field(default_factory=list)  # the hooked per-layer pass as a whole
    per_layer_json: str | None = None  # the per-layer profile (with the estimate's per-layer cycles, if any)
    estimate: TimingEstimate | None = None
