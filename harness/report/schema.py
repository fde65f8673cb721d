"""The results row: one tidy row per (model, board, target, engine, kernels) run.

A failed run is still a row, with its reason in `error`. Every latency carries its `unit`
("cycles" from DWT on hardware, "instructions" from the emulator); `latency_ms` only exists for
cycles, `instructions_per_mac` only for instructions. Keys the schema does not know are kept as
extra columns, so a new measurement needs no change here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

# What identifies a run configuration; `latest_runs` keeps the newest row per key.
RUN_KEYS = ("model", "board", "target", "engine", "kernels")

UNITS_WITH_MS = ("cycles",)
EMULATOR_UNIT = "instructions"

# Column -> storage kind. "int" columns are nullable integers (pandas Int64).
COLUMN_KINDS: dict[str, str] = {
    "model": "str", "board": "str", "target": "str", "engine": "str", "kernels": "str",
    "unit": "str",
    "latency_median": "float", "latency_min": "float", "latency_max": "float",
    "latency_ms": "float", "timer_resolution": "float",
    "arena_bytes": "int", "stack_bytes": "int",
    "tflm_arena_bytes": "int", "tflm_arena_head_bytes": "int",
    "flash_bytes": "int", "ram_bytes": "int", "flash_code_bytes": "int", "flash_weights_bytes": "int",
    "sections_json": "str",
    "samples": "int", "host_mismatches": "int",
    "accuracy_device": "float", "accuracy_host": "float",
    "macs": "int", "instructions_per_mac": "float",
    "per_layer_json": "str",
    "error": "str",
    # provenance
    "toolchain_version": "str", "qemu_version": "str", "clock_hz": "int",
    "git_sha": "str", "timestamp": "str", "host": "str",
}
COLUMNS = tuple(COLUMN_KINDS)
JSON_COLUMNS = ("sections_json", "per_layer_json")


@dataclass(frozen=True)
class ResultRow:
    """One run. Only the identity is required; everything else may be unknown (None)."""

    model: str
    board: str
    target: str
    engine: str
    kernels: str | None = None
    unit: str | None = None
    latency_median: float | None = None
    latency_min: float | None = None
    latency_max: float | None = None
    latency_ms: float | None = None
    timer_resolution: float | None = None  # in `unit`
    arena_bytes: int | None = None
    stack_bytes: int | None = None
    tflm_arena_bytes: int | None = None
    tflm_arena_head_bytes: int | None = None
    flash_bytes: int | None = None
    ram_bytes: int | None = None
    flash_code_bytes: int | None = None
    flash_weights_bytes: int | None = None
    sections_json: Any = None  # {section: bytes} or its JSON text
    samples: int | None = None
    host_mismatches: int | None = None
    accuracy_device: float | None = None
    accuracy_host: float | None = None
    macs: int | None = None
    instructions_per_mac: float | None = None
    per_layer_json: Any = None  # [{"index", "name", "op", "macs", "count"}, ...] or its JSON text
    error: str | None = None
    toolchain_version: str | None = None
    qemu_version: str | None = None
    clock_hz: int | None = None
    git_sha: str | None = None
    timestamp: str | None = None
    host: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.latency_ms is not None and self.unit not in UNITS_WITH_MS:
            raise ValueError(f"latency_ms is only meaningful for cycles, not for unit {self.unit!r}")
        if self.instructions_per_mac is not None and self.unit != EMULATOR_UNIT:
            raise ValueError(f"instructions_per_mac needs unit 'instructions', not {self.unit!r}")
        clash = set(self.extra) & set(COLUMNS)
        if clash:
            raise ValueError(f"extra keys shadow schema columns: {sorted(clash)}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ResultRow:
        """Build a row from a plain dict; keys outside the schema go to `extra`."""
        known = {f.name for f in fields(cls)} - {"extra"}
        return cls(
            **{k: v for k, v in values.items() if k in known},
            extra={**values.get("extra", {}), **{k: v for k, v in values.items() if k not in known | {"extra"}}},
        )

    def to_record(self) -> dict[str, Any]:
        """A flat dict for a DataFrame: schema columns in order, then the extras."""
        record = {name: getattr(self, name) for name in COLUMNS}
        record.update(self.extra)
        return {k: _jsonable_cell(v) for k, v in record.items()}


def _jsonable_cell(value: Any) -> Any:
    # Nested values (sections, per-layer lists) are stored as JSON text: CSV and Parquet both keep it.
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value)
    return value
