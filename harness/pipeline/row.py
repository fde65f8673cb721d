"""The run record: what a run has gathered (`RunState`: the stages' typed records) and the one
place a row is built from them (`build_row`).

Pure functions of what was measured: latency summaries in their unit, rates (ms only for cycles,
per-MAC figures), the deployable RAM footprint, the per-sample table, the raw arrays kept with
`--out`. A failed run keeps every record that arrived and the summary of the samples that did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness.inputs import Samples
from harness.measure.records import DeviceRun, Received
from harness.pipeline.records import (
    BuildResult,
    GeneratedFacts,
    HostReference,
    ModelFacts,
    RunIdentity,
    RunOutcome,
    RunProvenance,
)


@dataclass
class RunState:
    """What a run has gathered so far — each stage's typed record as it arrives — kept for the row
    and the per-sample table even on failure."""

    received: Received = field(default_factory=Received)
    host_out: np.ndarray | None = None
    samples: Samples | None = None
    persistent_arena_bytes: int | None = None  # the engine's, when known without measuring
    identity: RunIdentity | None = None
    model: ModelFacts | None = None
    host: HostReference | None = None
    generated: GeneratedFacts | None = None
    build: BuildResult | None = None
    device: DeviceRun | None = None


def build_row(provenance: RunProvenance, state: RunState, outcome: RunOutcome | None = None) -> dict:
    """The results row from the stages' records (the columns of `harness.report.schema.ResultRow`);
    a stage that did not finish leaves its columns out, and a run cut short keeps its samples' summary."""
    row = provenance.columns()
    if state.identity is not None:
        row.update(state.identity.columns())
    if state.model is not None:
        row["clock_hz"] = state.model.clock_hz
        if state.model.macs is not None:
            row["macs"] = state.model.macs
    if state.host is not None:
        row.update(accuracy_host=state.host.accuracy_host, tflm_arena_bytes=state.host.tflm_arena_bytes,
                   tflm_arena_head_bytes=state.host.tflm_arena_head_bytes)
    if state.generated is not None:
        row.update(state.generated.engine)
        row["arena_plan_bytes"] = state.generated.arena_plan_bytes
    if state.build is not None:
        row.update(state.build.columns)
    received = state.received
    if received.target is not None:
        row.update(received.target.columns())
    if received.mlperf is not None:
        row.update(received.mlperf.columns())
    if received.timer is not None:
        row.update(received.timer.columns())
    if received.memory is not None:
        row.update(received.memory.columns())
    if outcome is not None:
        row.update(outcome.columns())
    if state.device is not None:
        fill_device_columns(row, state.device, state)
    else:
        fill_partial(row, state)
    return row


def accuracy(outputs: np.ndarray, labels: np.ndarray | None) -> float | None:
    if labels is None:
        return None
    predicted = outputs.reshape(outputs.shape[0], -1).argmax(axis=1)
    return float(np.mean(predicted == labels))


# Columns of a compression sidecar (harness.compress) carried into the bench row, prefixed.
SIDECAR_COLUMNS = ("variant", "method", "params_json", "accuracy_keras", "accuracy_tflite", "tflite_bytes",
                   "gzip_bytes", "nonzero_fraction", "seed")


def compression_columns(model_path: Path) -> dict:
    """The compression facts of a variant, from the `<model>.json` sidecar beside it, if there is one."""
    sidecar = model_path.with_suffix(".json")
    if not sidecar.is_file():
        return {}
    try:
        facts = json.loads(sidecar.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(facts, dict) or "method" not in facts:
        return {}
    return {f"compress_{k}": facts[k] for k in SIDECAR_COLUMNS if k in facts}


def fill_device_columns(row: dict, device: DeviceRun, state: RunState) -> None:
    host_out, samples = state.host_out, state.samples
    outputs = device.outputs.reshape(host_out.shape)
    mismatch = np.any(outputs.reshape(len(outputs), -1) != host_out.reshape(len(host_out), -1), axis=1)
    if device.per_layer_json is not None:
        row["per_layer_json"] = device.per_layer_json
    if device.estimate is not None:
        row.update(device.estimate.columns)
    row.update(latency_summary(device.latency, device.raw_latency, device.profiled))
    row.update(host_mismatches=int(mismatch.sum()), accuracy_device=accuracy(outputs, samples.y))
    fill_rates(row, device.unit)
    fill_footprint(row, state.persistent_arena_bytes)


def latency_summary(latency: list[float], raw: list[float], profiled: list[float]) -> dict:
    counts = np.asarray(latency, dtype=np.float64)
    if counts.size == 0:
        return {}
    out = dict(latency_median=float(np.median(counts)), latency_p90=float(np.percentile(counts, 90)),
               latency_min=float(counts.min()), latency_max=float(counts.max()),
               latency_distinct=int(np.unique(counts).size), latency_raw_median=float(np.median(raw)))
    if any(profiled):
        out["latency_profiled_median"] = float(np.median(profiled))
    return out


def fill_rates(row: dict, unit: str | None) -> None:
    # The clock the firmware reports having set up, not the board's nominal one: a board whose
    # crystal did not start runs on its internal oscillator.
    clock = row.get("cpu_hz") or row.get("clock_hz")
    median = row.get("latency_median")
    if median is None:
        return
    row["latency_ms"] = median / clock * 1e3 if unit == "cycles" and clock else None  # instructions have no ms
    if row.get("macs") and unit in ("cycles", "instructions"):
        row[f"{unit}_per_mac"] = round(median / row["macs"], 3)


def fill_footprint(row: dict, persistent_default: int | None) -> None:
    """The deployable RAM: arena used (persistent + non-persistent) + weights in RAM + engine state +
    stack used.
    `persistent_default`: the engine's persistent arena when the device did not report one."""
    nonpersistent = row.get("arena_nonpersistent_bytes")
    if nonpersistent is None:
        return
    row.setdefault("arena_persistent_bytes", persistent_default)
    if row["arena_persistent_bytes"] is not None:
        row["arena_bytes"] = nonpersistent + row["arena_persistent_bytes"]
    parts = (row.get("arena_bytes"), row.get("ram_engine_state_bytes"), row.get("stack_bytes"))
    if all(p is not None for p in parts):
        row["deploy_ram_bytes"] = sum(parts) + (row.get("ram_weights_bytes") or 0)


def fill_partial(row: dict, state: RunState) -> None:
    """A failed run keeps the summary of the samples that did arrive."""
    received = state.received
    if "latency_median" in row or not received.samples or received.scale is None:
        return
    overhead = received.scale.convert(received.overhead_ticks)
    raw = [received.scale.convert(s.count) for s in received.samples]
    row.update(latency_summary([r - overhead for r in raw], raw,
                                [received.scale.convert(s.profiled_count) for s in received.samples]))
    fill_rates(row, received.scale.unit)
    fill_footprint(row, state.persistent_arena_bytes)


def samples_frame(row: dict, state: RunState) -> pd.DataFrame:
    """The raw per-sample series of this attempt, keyed by (run_id, attempt_id, sample)."""
    received = state.received
    if not received.samples or received.scale is None:
        return pd.DataFrame()
    scale, overhead = received.scale, received.scale.convert(received.overhead_ticks)
    frame = pd.DataFrame({
        "run_id": row.get("run_id"), "attempt_id": row["attempt_id"],
        "sample": [s.index for s in received.samples],
        "latency": [scale.convert(s.count) - overhead for s in received.samples],
        "latency_raw": [scale.convert(s.count) for s in received.samples],
        "latency_profiled": [scale.convert(s.profiled_count) or np.nan for s in received.samples],
        "unit": scale.unit,
    })
    if state.host_out is not None and received.output_dtype is not None:
        host = state.host_out.reshape(len(state.host_out), -1)
        device = np.stack([np.frombuffer(s.output, dtype=received.output_dtype) for s in received.samples])
        frame["host_match"] = [bool(np.array_equal(device[i], host[s.index])) for i, s in enumerate(received.samples)]
        frame["predicted"] = device.argmax(axis=1)
        labels = state.samples.y if state.samples is not None else None
        if labels is not None:
            frame["label"] = [int(labels[s.index]) for s in received.samples]
            frame["correct"] = frame["predicted"] == frame["label"]
    return frame


def _without_batch(a: np.ndarray) -> np.ndarray:
    """[N, 1, ...] -> [N, ...]: one row per sample, without the model's batch of 1."""
    return a.reshape(a.shape[0], *a.shape[2:]) if a.ndim > 2 and a.shape[1] == 1 else a


def keep_raw(out: Path, inputs: np.ndarray, outputs: np.ndarray, row: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "inputs.npy", _without_batch(inputs))
    np.save(out / "outputs.npy", _without_batch(outputs))  # shaped like the host reference's outputs
    (out / "result.json").write_text(json.dumps(row, indent=2, default=str))


