"""The results row, declared once: every column with its type, unit and meaning.

`ResultRow` is the typed record a run hands to the store. The pandas dtypes (`COLUMN_KINDS`), the
validation (`ResultRow.__post_init__`, `validate_mapping`) and the column table of
`results/README.md` (`render_columns_markdown`) are all derived from the fields below, so a column
is added in one place. A failed run is still a row: `status` and `error` say why, and every figure
measured before the failure stays. Latencies carry their `unit` ("cycles" from DWT on hardware,
"instructions" from an emulator; never mixed). Keys outside the schema with a declared prefix
(`EXTRA_PREFIXES`, e.g. a compression variant's `compress_*` facts) are kept as extra columns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

UNITS_WITH_MS = ("cycles",)
EMULATOR_UNIT = "instructions"
STATUSES = ("ok", "failed", "interrupted")
# Extra columns a run may add without a schema change: compression sidecars, perturbation studies, TFLM tree.
EXTRA_PREFIXES = ("compress_", "accuracy_noise_", "accuracy_fgsm_", "perturb_", "tflm_", "renode_", "extra_")
KINDS = ("str", "int", "float", "bool")


def col(kind: str, unit: str, meaning: str, group: str, default: Any = None):
    """A schema column: its storage kind, unit ('' when it has none) and meaning, in one place."""
    assert kind in KINDS, kind
    return field(default=default, metadata={"kind": kind, "unit": unit, "meaning": meaning, "group": group})


ID, LAT, MEM, ACC, BUILD, PROV = "identity", "latency", "memory", "accuracy", "build", "provenance"


@dataclass(frozen=True)
class ResultRow:
    """One run attempt. Only the configuration is required; every figure may be unknown (None)."""

    # -- identity: what ran where, and which run this is
    model: str = col("str", "", "label: the model file's stem (not its identity: see `model_sha256`)", ID)
    board: str = col("str", "", "board name (`boards/<board>.json`)", ID)
    target: str = col("str", "", "`qemu`, `renode`, `serial` (a physical board), `labgrid` (a place of a "
                      "labgrid board farm) or a plugin's target (`target_plugin` names it)", ID)
    engine: str = col("str", "", "`builtin` (tinyhil's int8 engine), `tflm`, `external` (the device's own "
                      "firmware, spoken to over the MLPerf protocol: nothing built, no size columns) or a plugin's "
                      "engine (`engine_plugin` names it)", ID)
    kernels: str | None = col("str", "", "kernel set: `optimized`/`reference` (builtin), the TFLM kernel set "
                              "(tflm)", ID)
    weights_in: str | None = col("str", "", "builtin engine: where its weights are read from, `flash` or `ram` "
                                 "(copied at reset; speed mode on a board whose flash has wait states, when they "
                                 "fit)", ID)
    weight_layout: str | None = col("str", "", "builtin engine: the optimized kernels' weights as built, `int16` "
                                    "(speed), `int16+winograd` (speed, 3x3 stride-1 convolutions by Winograd "
                                    "F(2x2, 3x3)) or `int8` (size; also speed mode when only int8 weights fit in RAM "
                                    "on a board whose flash waits)", ID)
    optimize: str | None = col("str", "", "builtin engine: the weight layouts it was built with, `speed` (conv / FC "
                               "weights widened to int16 offline) or `size` (int8 weights only); empty for other "
                               "engines", ID)
    engine_plugin: str | None = col("str", "", "the distribution and version that registered the engine: "
                                    "`tinyhil 0.1.0` for tinyhil's own, else the plugin package's", ID)
    target_plugin: str | None = col("str", "", "the distribution and version that registered the target "
                                    "(as `engine_plugin`)", ID)
    run_id: str | None = col("str", "", "identity of the run: sha256 over model_sha256, board, board_sha256, target, "
                             "engine, kernels, input_sha256, samples, per_layer (+ protocol and window for `mlperf`, "
                             "+ optimize when `size`; 16 hex digits)", ID)
    attempt_id: str | None = col("str", "", "unique per row: one attempt of `run_id`", ID)
    model_path: str | None = col("str", "", "the .tflite path given", ID)
    model_sha256: str | None = col("str", "", "sha256 of the .tflite file", ID)
    input_sha256: str | None = col("str", "", "sha256 of the samples sent (dtype, shape and bytes)", ID)
    board_sha256: str | None = col("str", "", "sha256 of the board file used (an edited board is another run)", ID)
    board_file: str | None = col("str", "", "the board file used and where it was found: `--boards-dir`, "
                                 "`$TINYHIL_BOARDS_DIR`, `./boards` or `shipped`", ID)
    samples: int | None = col("int", "count", "samples run on the device", ID)
    per_layer: bool | None = col("bool", "", "whether a second, hooked pass timed each layer", ID)
    protocol: str | None = col("str", "", "what the harness spoke to the device: `tinyhil` (framed, CRC, retries) "
                               "or `mlperf` (the MLPerf Tiny / EEMBC runner's ASCII protocol)", ID)
    mlperf_device_name: str | None = col("str", "", "the device's answer to `name%` (protocol mlperf)", ID)
    mlperf_profile: str | None = col("str", "", "the device's answer to `profile%`: firmware and model versions "
                                     "(protocol mlperf)", ID)
    mlperf_iterations: int | None = col("int", "count", "inferences per timed `infer N W` window; a sample's "
                                        "latency is the window / N (protocol mlperf)", LAT)
    mlperf_warmup: int | None = col("int", "count", "untimed inferences before each window (protocol mlperf)", LAT)
    data_source: str | None = col("str", "", "where the samples came from (`--data` file, random seed...)", ID)
    status: str | None = col("str", "", "`ok`, `failed` or `interrupted`", ID)
    error: str | None = col("str", "", "why the run failed (`ErrorClass: message`), empty when it did not", ID)
    error_type: str | None = col("str", "", "the error's class name, e.g. `DoesNotFitError`", ID)
    # -- latency
    unit: str | None = col("str", "", "unit of every latency column: `cycles` (DWT CYCCNT on silicon) or "
                           "`instructions` (emulator virtual time) — emulator counts are never cycles", LAT)
    latency_median: float | None = col("float", "`unit`", "per inference over all samples, from the unhooked "
                                       "pass, timer overhead subtracted", LAT)
    latency_p90: float | None = col("float", "`unit`", "90th percentile over samples (same pass)", LAT)
    latency_min: float | None = col("float", "`unit`", "fastest sample (same pass)", LAT)
    latency_max: float | None = col("float", "`unit`", "slowest sample (same pass)", LAT)
    latency_distinct: int | None = col("int", "count", "number of distinct per-sample counts", LAT)
    latency_raw_median: float | None = col("float", "`unit`", "median before subtracting the timer overhead", LAT)
    timer_overhead: float | None = col("float", "`unit`", "cost of reading the timer twice, measured by the "
                                       "firmware at boot; subtracted from every latency", LAT)
    latency_profiled_median: float | None = col("float", "`unit`", "median of the hooked per-layer pass as a "
                                                "whole: the profiler's own cost shows as its excess", LAT)
    latency_ms: float | None = col("float", "ms", "`latency_median / cpu_hz`, only when `unit` is `cycles`", LAT)
    timer: str | None = col("str", "", "the counter the firmware read: `dwt_cyccnt` or `systick` (`mlperf_lap_us`: "
                            "a device's m-lap-us microseconds, counter unknown)", LAT)
    timer_hz: int | None = col("int", "Hz", "clock of that counter as the firmware reports it", LAT)
    timer_resolution: float | None = col("float", "`unit`", "smallest step the counter can show", LAT)
    cpu_hz: int | None = col("int", "Hz", "core clock the firmware reports having configured", LAT)
    clock_hz: int | None = col("int", "Hz", "the board file's nominal core clock", LAT)
    macs: int | None = col("int", "MACs", "multiply-accumulates of one inference", LAT)
    instructions_per_mac: float | None = col("float", "instructions/MAC", "`latency_median / macs`, only when "
                                             "`unit` is `instructions`", LAT)
    cycles_per_mac: float | None = col("float", "cycles/MAC", "`latency_median / macs`, only when `unit` is "
                                       "`cycles`", LAT)
    per_layer_json: Any = col("str", "`unit`", "JSON list of `{index, name, op, macs, count, unit}` from the "
                              "hooked pass (+ `cycles_est`, the timing model's cycles, on a timed QEMU run)", LAT)
    # -- estimates of the timing model (harness/timing): never measured figures, never in `unit`
    cycles_est: float | None = col("float", "cycles (estimate)", "per inference on the named board, by the timing "
                                   "model `timing_model` from a QEMU run (median over samples)", LAT)
    latency_ms_est: float | None = col("float", "ms (estimate)", "`cycles_est / clock_hz`", LAT)
    energy_uj_est: float | None = col("float", "µJ (estimate)", "`latency_ms_est` x the board file's datasheet "
                                      "run-mode current x supply voltage", LAT)
    timing_model: str | None = col("str", "", "name and version of the model behind the `*_est` columns", LAT)
    emulated_on: str | None = col("str", "", "the QEMU-modelled board whose machine ran the engine for a board "
                                  "QEMU does not model (empty: the board itself)", LAT)
    # -- memory, measured on the device
    arena_bytes: int | None = col("int", "bytes", "arena the engine used: persistent + non-persistent (painted "
                                  "high-water mark on the device)", MEM)
    arena_nonpersistent_bytes: int | None = col("int", "bytes", "the non-persistent part (activations, scratch)", MEM)
    arena_persistent_bytes: int | None = col("int", "bytes", "the persistent part (0 for the builtin engine, "
                                             "which plans everything statically)", MEM)
    arena_plan_bytes: int | None = col("int", "bytes", "the arena the engine reserved (its static plan)", MEM)
    stack_bytes: int | None = col("int", "bytes", "stack used by one inference, measured on the device", MEM)
    stack_size_bytes: int | None = col("int", "bytes", "usable stack (reserved less the guard band)", MEM)
    tflm_arena_bytes: int | None = col("int", "bytes", "host TFLM arena total (RecordingMicroAllocator, 64-bit "
                                       "host)", MEM)
    tflm_arena_head_bytes: int | None = col("int", "bytes", "its non-persistent head: activation plan + "
                                            "kernel scratch", MEM)
    # -- memory, from the ELF (pyelftools: sections, symbols, DWARF compile units)
    flash_bytes: int | None = col("int", "bytes", "everything programmed into flash (the test firmware)", MEM)
    ram_bytes: int | None = col("int", "bytes", "everything reserved in RAM (.data, .bss, stack)", MEM)
    flash_weights_bytes: int | None = col("int", "bytes", "model constants: weights, biases, tables", MEM)
    flash_model_code_bytes: int | None = col("int", "bytes", "the generated model code (or flatbuffer glue)", MEM)
    flash_kernels_bytes: int | None = col("int", "bytes", "engine kernels linked in (only those the model uses)", MEM)
    flash_harness_bytes: int | None = col("int", "bytes", "harness: protocol, commands, timer, startup, board", MEM)
    flash_test_data_bytes: int | None = col("int", "bytes", "test inputs bundled into flash", MEM)
    flash_runtime_bytes: int | None = col("int", "bytes", "C runtime (newlib, libgcc): shared by harness and "
                                          "engine", MEM)
    flash_other_bytes: int | None = col("int", "bytes", "flash not attributed to a symbol (alignment, vectors)", MEM)
    ram_arena_bytes: int | None = col("int", "bytes", "the planned arena as linked (guard band excluded)", MEM)
    ram_weights_bytes: int | None = col("int", "bytes", "model constants placed in RAM (copied from flash at "
                                        "reset: builtin `--optimize speed` where flash waits; see weights_in)", MEM)
    ram_engine_state_bytes: int | None = col("int", "bytes", "engine statics (e.g. TFLM's interpreter, "
                                             "persistent arena)", MEM)
    ram_harness_bytes: int | None = col("int", "bytes", "harness buffers: receive, output, layer timing, guards", MEM)
    ram_stack_bytes: int | None = col("int", "bytes", "the stack the linker script reserves", MEM)
    ram_other_bytes: int | None = col("int", "bytes", "RAM not attributed to a symbol (runtime library, "
                                      "alignment)", MEM)
    deploy_flash_bytes: int | None = col("int", "bytes", "deployable footprint, flash: weights + model code + "
                                         "kernels — the figure to quote for the model", MEM)
    deploy_ram_bytes: int | None = col("int", "bytes", "deployable footprint, RAM: arena used + weights in RAM + "
                                       "engine state + stack used by one inference", MEM)
    sections_json: Any = col("str", "bytes", "JSON `{section: size}` of the ELF", MEM)
    # -- accuracy and agreement
    host_mismatches: int | None = col("int", "count", "samples whose device output differs from host TFLM "
                                      "(the bit-exact check)", ACC)
    accuracy_device: float | None = col("float", "fraction", "top-1 on the labelled samples, on the device", ACC)
    accuracy_host: float | None = col("float", "fraction", "top-1 on the same samples, host TFLM", ACC)
    accuracy_float: float | None = col("float", "fraction", "top-1 of the float model the .tflite came from, "
                                       "where the run knows it (the demo)", ACC)
    seed: int | None = col("int", "", "seed of the random inputs or of training, where one was used", ACC)
    # -- build
    build_id: str | None = col("str", "", "sha256 over what goes into the build: generated model, firmware "
                               "sources, board file, engine, kernels, toolchain (16 hex digits)", BUILD)
    build_cached: bool | None = col("bool", "", "the firmware was reused from an identical earlier build", BUILD)
    build_seconds: float | None = col("float", "s", "wall time of the build in this run (0 when cached)", BUILD)
    wall_time_s: float | None = col("float", "s", "wall time of the whole run", BUILD)
    # -- provenance
    firmware: str | None = col("str", "", "firmware version the device reports", PROV)
    toolchain_version: str | None = col("str", "", "compiler that built the firmware, from the ELF: "
                                        "`arm-none-eabi-gcc 12.2.1` (empty when nothing was built)", PROV)
    platformio_version: str | None = col("str", "", "`PlatformIO 6.2.0`", PROV)
    qemu_version: str | None = col("str", "", "`qemu-system-arm 7.2.x`, for runs that reached QEMU", PROV)
    renode_version: str | None = col("str", "", "`Renode 1.15.x`, for runs that reached Renode", PROV)
    labgrid_place: str | None = col("str", "", "the labgrid place the run acquired (`--target labgrid`)", PROV)
    labgrid_coordinator: str | None = col("str", "", "HOST:PORT of the labgrid coordinator of that place", PROV)
    labgrid_version: str | None = col("str", "", "`labgrid 26.0.1`: the labgrid-client that acquired the place",
                                      PROV)
    labgrid_place_kind: str | None = col("str", "", "`silicon` (counts are cycles) or `qemu` (the place's tag "
                                         "`tinyhil_target=qemu`: counts are emulator instructions)", PROV)
    labgrid_serial: str | None = col("str", "", "the place's NetworkSerialPort as opened: `socket://host:port` "
                                     "(raw) or `rfc2217://host:port`", PROV)
    labgrid_resources: str | None = col("str", "", "resource classes of the acquired place, comma-separated",
                                        PROV)
    labgrid_power_cycled: bool | None = col("bool", "", "the harness power-cycled the board through labgrid "
                                            "before the run (the place has a power resource)", PROV)
    labgrid_flashed: bool | None = col("bool", "", "the harness flashed the board through labgrid; always false "
                                       "so far: the board is assumed to run the built firmware (the model, io "
                                       "and host comparisons catch a wrong one)", PROV)
    tinyhil_version: str | None = col("str", "", "version of the tinyhil package that made the run", PROV)
    tinyhil_commit: str | None = col("str", "", "commit of tinyhil's checkout when it ran from one (`-dirty` when "
                                     "tracked files differ); empty for an installed wheel", PROV)
    repo_commit: str | None = col("str", "", "commit of the user's git repository the run was made in (the one "
                                  "holding the working folder); empty outside git", PROV)
    repo_dirty: bool | None = col("bool", "", "that repository's tracked files differed from repo_commit", PROV)
    timestamp: str | None = col("str", "", "UTC, ISO 8601, when the row was stored", PROV)
    host: str | None = col("str", "", "machine the harness ran on", PROV)
    extra: Mapping[str, Any] = field(default_factory=dict, metadata={"kind": None})

    def __post_init__(self) -> None:
        for name in ("model", "board", "target", "engine"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"column {name!r} is required (a string)")
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")
        if self.latency_ms is not None and self.unit not in UNITS_WITH_MS:
            raise ValueError(f"latency_ms is only meaningful for cycles, not for unit {self.unit!r}")
        if self.instructions_per_mac is not None and self.unit != EMULATOR_UNIT:
            raise ValueError(f"instructions_per_mac needs unit 'instructions', not {self.unit!r}")
        if self.cycles_per_mac is not None and self.unit != "cycles":
            raise ValueError(f"cycles_per_mac needs unit 'cycles', not {self.unit!r}")
        clash = set(self.extra) & set(COLUMNS)
        if clash:
            raise ValueError(f"extra keys shadow schema columns: {sorted(clash)}")
        unknown = [k for k in self.extra if not k.startswith(EXTRA_PREFIXES)]
        if unknown:
            raise ValueError(f"columns not in the schema (harness/report/schema.py): {sorted(unknown)}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ResultRow:
        """Build a row from a plain dict; prefixed keys outside the schema go to `extra`."""
        known = set(COLUMNS)
        extra = {**values.get("extra", {}), **{k: v for k, v in values.items() if k not in known | {"extra"}}}
        return cls(**{k: v for k, v in values.items() if k in known}, extra=extra)

    def to_series(self):
        """The row as a pandas Series: every schema column in order (None where unknown), then the
        extras, named by its attempt."""
        import pandas as pd

        return pd.Series(self.to_record(), dtype=object, name=self.attempt_id)

    def to_record(self) -> dict[str, Any]:
        """A flat dict for a DataFrame: schema columns in order, then the extras."""
        record = {name: getattr(self, name) for name in COLUMNS}
        record.update(self.extra)
        return {k: _jsonable_cell(v) for k, v in record.items()}


SCHEMA = tuple(f for f in fields(ResultRow) if f.metadata.get("kind"))
COLUMNS = tuple(f.name for f in SCHEMA)
COLUMN_KINDS: dict[str, str] = {f.name: f.metadata["kind"] for f in SCHEMA}
JSON_COLUMNS = ("sections_json", "per_layer_json")
# What identifies a run configuration (`run_id` is their hash, plus the model's and inputs' content).
RUN_KEYS = ("run_id",)


def _jsonable_cell(value: Any) -> Any:
    # Nested values (sections, per-layer lists) are stored as JSON text: CSV and Parquet both keep it.
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value)
    return value


README_BEGIN = "<!-- columns: generated from harness/report/schema.py; do not edit by hand -->"
README_END = "<!-- end of columns -->"


def render_columns_markdown() -> str:
    """The column table of results/README.md, from the schema."""
    lines = [README_BEGIN, ""]
    for group in (ID, LAT, MEM, ACC, BUILD, PROV):
        lines += [f"### {group}", "", "| column | type | unit | meaning |", "|---|---|---|---|"]
        for f in SCHEMA:
            if f.metadata["group"] == group:
                m = f.metadata
                lines.append(f"| `{f.name}` | {m['kind']} | {m['unit']} | {m['meaning']} |")
        lines.append("")
    prefixes = ", ".join(f"`{p}*`" for p in EXTRA_PREFIXES)
    lines += [f"Extra columns may appear with these prefixes: {prefixes}.", "", README_END]
    return "\n".join(lines)


def update_readme(text: str) -> str:
    """`text` (a README) with its generated column section replaced by the current schema's."""
    if README_BEGIN not in text or README_END not in text:
        raise ValueError("the README has no generated column section (markers missing)")
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    return head + render_columns_markdown() + tail


if __name__ == "__main__":  # python -m harness.report.schema: rewrite results/README.md's column table
    from pathlib import Path

    readme = Path(__file__).resolve().parents[2] / "results" / "README.md"
    readme.write_text(update_readme(readme.read_text()))
