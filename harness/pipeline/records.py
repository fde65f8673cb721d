"""What each bench stage hands on, as typed records: the run's provenance and identity, the model
and board facts, the host reference, the generated model and the build. With the measure stage's
(`harness/measure/records.py`) they are everything a row is built from (`harness.pipeline.row`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunProvenance:
    """Known before anything runs: what was asked for, by which code and plugins, with which extras."""

    model: str
    model_path: str
    board: str
    target: str
    engine: str
    kernels: str | None
    optimize: str | None
    per_layer: bool
    protocol: str
    engine_plugin: str  # distribution and version of the registered engine
    target_plugin: str
    attempt_id: str
    code: Mapping[str, Any] = field(default_factory=dict)  # tinyhil's version/commit, the user's repository
    compression: Mapping[str, Any] = field(default_factory=dict)  # the variant's sidecar, prefixed
    extra: Mapping[str, Any] = field(default_factory=dict)  # the caller's extra columns

    def columns(self) -> dict:
        return {"model": self.model, "model_path": self.model_path, "board": self.board, "target": self.target,
                "engine": self.engine, "kernels": self.kernels, "optimize": self.optimize,
                "per_layer": self.per_layer, "protocol": self.protocol, "engine_plugin": self.engine_plugin,
                "target_plugin": self.target_plugin, "attempt_id": self.attempt_id, **self.code,
                **self.compression, **self.extra}


@dataclass(frozen=True)
class RunIdentity:
    """The run by content: the model file's, the samples' and the board file's hashes, and `run_id`."""

    model_sha256: str
    input_sha256: str
    samples: int
    data_source: str | None
    board_sha256: str
    board_file: str | None
    run_id: str

    def columns(self) -> dict:
        return {"model_sha256": self.model_sha256, "input_sha256": self.input_sha256, "samples": self.samples,
                "data_source": self.data_source, "board_sha256": self.board_sha256, "board_file": self.board_file,
                "run_id": self.run_id}


@dataclass(frozen=True)
class ModelFacts:
    """The board's nominal clock and the model's MACs (from analysis, before anything is built)."""

    clock_hz: int
    macs: int | None = None


@dataclass(frozen=True)
class HostReference:
    """Host TFLM on the same samples: its accuracy and its arena figures."""

    accuracy_host: float | None
    tflm_arena_bytes: int
    tflm_arena_head_bytes: int


@dataclass(frozen=True)
class GeneratedFacts:
    """The engine's generated model: its arena plan and the engine's own columns (None: nothing generated)."""

    arena_plan_bytes: int | None
    engine: Mapping[str, Any] = field(default_factory=dict)  # Engine.generated_columns


@dataclass(frozen=True)
class BuildResult:
    """The firmware build's columns: sizes, memory split, toolchain, build identity, the engine's extras
    (`Firmware.columns`)."""

    columns: Mapping[str, Any]


@dataclass(frozen=True)
class RunOutcome:
    """How the attempt ended: ok, failed (with the error) or interrupted, and its wall time."""

    status: str
    wall_time_s: float
    error_type: str | None = None
    error: str | None = None

    def columns(self) -> dict:
        if self.status == "ok":
            return {"status": "ok", "wall_time_s": self.wall_time_s}
        return {"status": self.status, "error_type": self.error_type, "error": self.error,
                "wall_time_s": self.wall_time_s}
