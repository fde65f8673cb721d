"""The bench pipeline: analyze → check → host reference → codegen → build → run → compare → row.

Each stage is a small function taking and returning plain data; `run_bench` strings them together
and records the row even when a later stage fails (with the `error` column), so nothing already
measured — host reference accuracy, arena figures, ELF sizes — is lost.
"""

from __future__ import annotations

import json
import math
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console

from harness.build.baseline import harness_baseline
from harness.build.platformio import check_protocol, engine_kernels
from harness.build.tflm_lib import find_tree
from harness.errors import DataError, DoesNotFitError, Interrupted, TinyhilError
from harness.identity import file_sha256, run_id, samples_sha256
from harness.inputs import Samples, load_samples
from harness.measure import DeviceRun, Received, run_on_device
from harness.model import TfliteModel, analyze, estimate_fit, load_tflite

TARGETS = ("qemu", "serial", "renode", "labgrid")
ENGINES = ("builtin", "tflm")
EXTERNAL_TARGETS = ("serial", "labgrid")  # where a device can be running firmware tinyhil did not build


@dataclass(frozen=True)
class BenchConfig:
    model: Path
    board: str
    target: str = "qemu"
    data: Path | None = None
    samples: int | None = None
    kernels: str = "optimized"
    engine: str = "builtin"
    per_layer: bool = False
    protocol: str = "tinyhil"  # the framed protocol, or "mlperf": the MLPerf Tiny runner's ASCII protocol
    mlperf_iterations: int = 1  # `infer N W`: inferences per timed window, and warmups before it
    mlperf_warmup: int = 0
    external_firmware: bool = False  # the device runs its own firmware (e.g. MLPerf Tiny reference): build nothing
    port: str | None = None
    place: str | None = None  # --target labgrid: the place (default: env LG_PLACE)
    coordinator: str | None = None  # --target labgrid: HOST:PORT (default: env LG_COORDINATOR)
    timeout_s: float = 300.0
    build_timeout_s: float = 900.0
    progress: bool = field(default=True, compare=False)  # a per-run progress bar (off inside a sweep's own)
    seed: int = 0
    out: Path | None = None
    results_dir: Path | None = Path("results")
    work_dir: Path = Path("build")
    labels: np.ndarray | None = field(default=None, compare=False)  # for callers with data in memory
    x: np.ndarray | None = field(default=None, compare=False)
    extra: dict = field(default_factory=dict, compare=False)  # extra columns (e.g. compression sidecar)

    def __post_init__(self) -> None:
        if self.engine == "tflm" and self.kernels == "optimized":  # TFLM's optimised kernels: CMSIS-NN
            object.__setattr__(self, "kernels", "cmsis-nn")

    @property
    def engine_label(self) -> str:
        """What runs the model: the engine tinyhil builds, or `external` for a device's own firmware."""
        return "external" if self.external_firmware else self.engine

    def validate(self) -> None:
        if self.samples is not None and self.samples < 1:
            raise DataError(f"--samples must be at least 1, got {self.samples}")
        if not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            raise TinyhilError(f"--timeout must be a number of seconds > 0, got {self.timeout_s:g}")
        if self.target not in TARGETS:
            raise TinyhilError(f"unknown target {self.target!r}; choose one of {', '.join(TARGETS)}")
        if self.engine not in ENGINES:
            raise TinyhilError(f"unknown engine {self.engine!r}; choose one of {', '.join(ENGINES)}")
        engine_kernels(self.engine, self.kernels)
        check_protocol(self.protocol)
        if self.protocol == "mlperf":
            if self.per_layer:
                raise TinyhilError("--per-layer needs --protocol tinyhil: the MLPerf protocol times whole inferences")
            if self.mlperf_iterations < 1 or self.mlperf_warmup < 0:
                raise TinyhilError(f"--iterations must be >= 1 and --warmup >= 0, got {self.mlperf_iterations} "
                                   f"and {self.mlperf_warmup}")
        elif self.external_firmware:
            raise TinyhilError("--external-firmware needs --protocol mlperf: a device's own firmware is only "
                               "spoken to through the MLPerf Tiny runner protocol")
        elif (self.mlperf_iterations, self.mlperf_warmup) != (1, 0):
            raise TinyhilError("--iterations and --warmup are for --protocol mlperf (the framed protocol times "
                               "each inference once, without warmup)")
        if self.external_firmware and self.target not in EXTERNAL_TARGETS:
            raise TinyhilError(f"--external-firmware is for a board already running its firmware (--target "
                               f"{' or '.join(EXTERNAL_TARGETS)}); {self.target} runs what tinyhil builds")
        if self.engine == "tflm" and not self.external_firmware:
            find_tree(self.kernels)  # the tree named for this kernel set, or an error naming the variable
        if self.target == "serial" and not self.port:
            from harness.boards import load_board
            from harness.targets.serial_port import find_port

            find_port(load_board(self.board))  # found by the board's USB ids, or an error saying why not
        if self.target == "labgrid":
            from harness.targets.labgrid_place import check_labgrid_config

            check_labgrid_config(self.place, self.coordinator)


def _accuracy(outputs: np.ndarray, labels: np.ndarray | None) -> float | None:
    if labels is None:
        return None
    predicted = outputs.reshape(outputs.shape[0], -1).argmax(axis=1)
    return float(np.mean(predicted == labels))


def _samples(cfg: BenchConfig, model: TfliteModel) -> Samples:
    if cfg.x is not None:
        inp = model.tensor(model.inputs[0])
        if cfg.x.dtype != inp.dtype:
            raise DataError(f"in-memory samples are {cfg.x.dtype}, the model input is {inp.dtype}")
        x = cfg.x.reshape((cfg.x.shape[0], *inp.shape))
        return Samples(x=x, y=cfg.labels, source="in-memory")
    return load_samples(model, cfg.data, cfg.samples, cfg.seed)


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


def _base_row(cfg: BenchConfig) -> dict:
    return {
        "model": Path(cfg.model).stem,
        "model_path": str(cfg.model),
        "board": cfg.board,
        "target": cfg.target,
        "engine": cfg.engine_label,
        "kernels": None if cfg.external_firmware else cfg.kernels,
        "per_layer": cfg.per_layer,
        "protocol": cfg.protocol,
        "attempt_id": uuid.uuid4().hex[:16],
        **compression_columns(Path(cfg.model)),
        **cfg.extra,
    }


def run_bench(cfg: BenchConfig, console: Console | None = None) -> dict:
    """Run one (model, board, target, engine) benchmark and return its results row.

    Any failure is recorded too — a project error, any other exception, or an interruption: the
    row keeps every figure and every sample measured before it, plus `status` and `error`, and is
    stored before the exception goes on to the caller.
    """
    console = console or Console(stderr=True, quiet=True)
    cfg.validate()
    started = time.monotonic()
    row = _base_row(cfg)
    state = RunState()
    try:
        _run_stages(cfg, row, console, state)
    except BaseException as e:
        interrupted = isinstance(e, (KeyboardInterrupt, Interrupted))
        row.update(status="interrupted" if interrupted else "failed", error_type=type(e).__name__,
                   error=f"{type(e).__name__}: {e}" if str(e) or not interrupted else "interrupted")
        row["wall_time_s"] = round(time.monotonic() - started, 2)
        _fill_partial(row, state)
        _record(cfg, row, state)
        if isinstance(e, Exception):
            e.row = row  # callers that go on (sweeps) keep the failed row
        raise
    row["status"] = "ok"
    row["wall_time_s"] = round(time.monotonic() - started, 2)
    _record(cfg, row, state)
    return row


@dataclass
class RunState:
    """What a run has gathered so far, kept for the row and the per-sample table even on failure."""

    received: Received = field(default_factory=Received)
    host_out: np.ndarray | None = None
    samples: Samples | None = None


def run_identity(cfg: BenchConfig) -> tuple[dict, Samples | None]:
    """The run's identity columns — by content: the model file's and the samples' hashes — and the
    samples. Computable for a model that cannot be read too (its samples are then 'unavailable'),
    so a refused run has a run_id and a resumed sweep knows it."""
    path = Path(cfg.model)
    model_sha = file_sha256(path) if path.is_file() else "missing"
    try:
        samples = _samples(cfg, load_tflite(path))
        input_sha, n, source = samples_sha256(samples.x), int(samples.x.shape[0]), samples.source
    except TinyhilError:
        samples, input_sha, n, source = None, "unavailable", int(cfg.samples or 0), None
    identity = dict(model_sha256=model_sha, input_sha256=input_sha, samples=n, data_source=source)
    identity["run_id"] = run_id(model_sha256=model_sha, board=cfg.board, target=cfg.target, engine=cfg.engine_label,
                                kernels=cfg.kernels, input_sha256=input_sha, samples=n, per_layer=cfg.per_layer,
                                protocol=cfg.protocol, mlperf_window=(cfg.mlperf_iterations, cfg.mlperf_warmup))
    return identity, samples


def _run_stages(cfg: BenchConfig, row: dict, console: Console, state: RunState) -> None:
    from harness.boards import load_board
    from harness.codegen import generate
    from harness.codegen.tflm_model import generate_tflm
    from harness.reference import run_tflm, tflm_arena

    identity, samples = run_identity(cfg)
    row.update(identity)  # known before anything can refuse, so even a refusal has its run_id
    board = load_board(cfg.board)
    row["clock_hz"] = board.clock_hz
    model = load_tflite(cfg.model)
    if samples is None:
        samples = _samples(cfg, model)  # raises the reason the samples could not be made
    state.samples = samples
    info = analyze(model)
    row["macs"] = info.macs
    if not cfg.external_firmware:  # (a device's own firmware is whatever it is: nothing to check or build)
        check_engine_supports(cfg.engine, model)  # refuses unsupported ops by name, before anything is built
        baseline = harness_baseline(board, cfg.work_dir / "builds")
        fit = estimate_fit(info, board.name, board.flash_bytes, board.ram_bytes, baseline=baseline)
        if not fit.fits:
            raise DoesNotFitError(f"{model.name} does not fit {fit.describe()} (estimate before building)")

    console.log(f"host TFLM reference on {samples.x.shape[0]} samples")
    state.host_out = run_tflm(cfg.model, samples.x)
    row["accuracy_host"] = _accuracy(state.host_out, samples.y)
    arena = tflm_arena(cfg.model)
    row["tflm_arena_bytes"], row["tflm_arena_head_bytes"] = arena.total_bytes, arena.head_bytes

    generated = cfg.work_dir / "generated" / row["attempt_id"]
    gen = None  # with --external-firmware, the device's own: nothing to generate
    if not cfg.external_firmware:
        console.log(f"generating C for the {cfg.engine} engine")
        if cfg.engine == "tflm":
            gen = generate_tflm(model, generated / "model", samples.x, name=model.name, arena=arena)
            row["tflm_persistent_bytes"] = gen.persistent_bytes
        else:
            gen = generate(model, generated / "model", samples.x, name=model.name)
    row["arena_plan_bytes"] = gen.arena_bytes if gen else None
    try:
        device = run_on_device(cfg, board, gen, cfg.work_dir / "builds", cfg.work_dir / "runs" / row["attempt_id"],
                               samples.x.shape[0], console, row, state.received, inputs=samples.x,
                               output_tensor=model.tensor(model.outputs[0]))
    finally:
        shutil.rmtree(generated, ignore_errors=True)  # the build keeps its own copy
    _fill_device_columns(row, device, state.host_out, samples)
    if cfg.out:
        _keep_raw(cfg.out, samples.x, device.outputs.reshape(state.host_out.shape), row)


def check_engine_supports(engine: str, model: TfliteModel) -> None:
    from harness.codegen import check_supported
    from harness.codegen.tflm_model import check_tflm_supported

    (check_tflm_supported if engine == "tflm" else check_supported)(model)


def _fill_device_columns(row: dict, device: DeviceRun, host_out: np.ndarray, samples: Samples) -> None:
    outputs = device.outputs.reshape(host_out.shape)
    mismatch = np.any(outputs.reshape(len(outputs), -1) != host_out.reshape(len(host_out), -1), axis=1)
    row.update(device.columns)
    row.update(_latency_summary(device.latency, device.raw_latency, device.profiled))
    row.update(host_mismatches=int(mismatch.sum()), accuracy_device=_accuracy(outputs, samples.y))
    _fill_rates(row, device.unit)
    _fill_footprint(row)


def _latency_summary(latency: list[float], raw: list[float], profiled: list[float]) -> dict:
    counts = np.asarray(latency, dtype=np.float64)
    if counts.size == 0:
        return {}
    out = dict(latency_median=float(np.median(counts)), latency_p90=float(np.percentile(counts, 90)),
               latency_min=float(counts.min()), latency_max=float(counts.max()),
               latency_distinct=int(np.unique(counts).size), latency_raw_median=float(np.median(raw)))
    if any(profiled):
        out["latency_profiled_median"] = float(np.median(profiled))
    return out


def _fill_rates(row: dict, unit: str | None) -> None:
    # The clock the firmware reports having set up, not the board's nominal one: a board whose
    # crystal did not start runs on its internal oscillator.
    clock = row.get("cpu_hz") or row.get("clock_hz")
    median = row.get("latency_median")
    if median is None:
        return
    row["latency_ms"] = median / clock * 1e3 if unit == "cycles" and clock else None  # instructions have no ms
    if row.get("macs") and unit in ("cycles", "instructions"):
        row[f"{unit}_per_mac"] = round(median / row["macs"], 3)


def _fill_footprint(row: dict) -> None:
    """The deployable RAM: arena used (persistent + non-persistent) + engine state + stack used."""
    nonpersistent = row.get("arena_nonpersistent_bytes")
    if nonpersistent is None:
        return
    row.setdefault("arena_persistent_bytes", 0 if row.get("engine") == "builtin" else None)
    if row["arena_persistent_bytes"] is not None:
        row["arena_bytes"] = nonpersistent + row["arena_persistent_bytes"]
    parts = (row.get("arena_bytes"), row.get("ram_engine_state_bytes"), row.get("stack_bytes"))
    if all(p is not None for p in parts):
        row["deploy_ram_bytes"] = sum(parts)


def _fill_partial(row: dict, state: RunState) -> None:
    """A failed run keeps the summary of the samples that did arrive."""
    received = state.received
    if "latency_median" in row or not received.samples or received.scale is None:
        return
    overhead = received.scale.convert(received.overhead_ticks)
    raw = [received.scale.convert(s.count) for s in received.samples]
    row.update(_latency_summary([r - overhead for r in raw], raw,
                                [received.scale.convert(s.profiled_count) for s in received.samples]))
    _fill_rates(row, received.scale.unit)
    _fill_footprint(row)


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


def _keep_raw(out: Path, inputs: np.ndarray, outputs: np.ndarray, row: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "inputs.npy", _without_batch(inputs))
    np.save(out / "outputs.npy", _without_batch(outputs))  # shaped like the host reference's outputs
    (out / "result.json").write_text(json.dumps(row, indent=2, default=str))


def _record(cfg: BenchConfig, row: dict, state: RunState | None = None) -> None:
    if cfg.results_dir is None:
        return
    from harness.report import append_results

    append_results([row], cfg.results_dir, samples=samples_frame(row, state) if state else None)
