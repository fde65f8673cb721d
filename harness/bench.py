"""The bench pipeline: analyze → check → host reference → codegen → build → run → compare → row.

Each stage is a small function taking and returning plain data; `run_bench` strings them together
and records the row even when a later stage fails (with the `error` column), so nothing already
measured — host reference accuracy, arena figures, ELF sizes — is lost.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console

from harness.build import KERNELS
from harness.errors import DataError, DoesNotFitError, TinyhilError, ToolMissingError
from harness.inputs import Samples, load_samples
from harness.measure import DeviceRun, run_on_device
from harness.model import TfliteModel, analyze, estimate_fit, load_tflite

TARGETS = ("qemu", "serial", "renode")
ENGINES = ("builtin", "tflm")
TFLM_TREE_HINT = (
    "the tflm engine needs TensorFlow Lite Micro's C++ sources in TINYHIL_TFLM_DIR: export a tree once, "
    "with network, from a clone of tflite-micro (tensorflow/lite/micro/tools/project_generation/"
    "create_tflm_tree.py, TARGET=cortex_m_generic OPTIMIZED_KERNEL_DIR=cmsis_nn) and point TINYHIL_TFLM_DIR at it"
)


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
    port: str | None = None
    timeout_s: float = 300.0
    seed: int = 0
    out: Path | None = None
    results_dir: Path | None = Path("results")
    work_dir: Path = Path("build")
    labels: np.ndarray | None = field(default=None, compare=False)  # for callers with data in memory
    x: np.ndarray | None = field(default=None, compare=False)
    extra: dict = field(default_factory=dict, compare=False)  # extra columns (e.g. compression sidecar)

    def validate(self) -> None:
        if self.target not in TARGETS:
            raise TinyhilError(f"unknown target {self.target!r}; choose one of {', '.join(TARGETS)}")
        if self.engine not in ENGINES:
            raise TinyhilError(f"unknown engine {self.engine!r}; choose one of {', '.join(ENGINES)}")
        if self.engine == "tflm" and not Path(os.environ.get("TINYHIL_TFLM_DIR", "")).joinpath(
                "tensorflow/lite/micro/micro_interpreter.h").is_file():
            raise ToolMissingError(TFLM_TREE_HINT)
        if self.kernels not in KERNELS:
            raise TinyhilError(f"unknown kernels {self.kernels!r}; choose one of {', '.join(KERNELS)}")
        if self.target == "serial" and not self.port:
            raise TinyhilError("--target serial needs --port (e.g. /dev/ttyACM0)")


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
        "engine": cfg.engine,
        "kernels": cfg.kernels,
        **compression_columns(Path(cfg.model)),
        **cfg.extra,
    }


def run_bench(cfg: BenchConfig, console: Console | None = None) -> dict:
    """Run one (model, board, target, engine) benchmark and return its results row.

    A failure is recorded too: the row keeps every figure measured before it, plus `error`.
    """
    console = console or Console(stderr=True, quiet=True)
    cfg.validate()
    started = time.monotonic()
    row = _base_row(cfg)
    try:
        _run_stages(cfg, row, console)
    except TinyhilError as e:
        row["error"] = f"{type(e).__name__}: {e}"
        _record(cfg, row)
        e.row = row  # callers that go on (sweeps) keep the failed row
        raise
    row["wall_time_s"] = round(time.monotonic() - started, 2)
    _record(cfg, row)
    return row


def _run_stages(cfg: BenchConfig, row: dict, console: Console) -> None:
    from harness.boards import load_board
    from harness.codegen import generate
    from harness.codegen.tflm_model import generate_tflm
    from harness.reference import run_tflm, tflm_arena

    board = load_board(cfg.board)
    row["clock_hz"] = board.clock_hz
    model = load_tflite(cfg.model)
    info = analyze(model)
    row["macs"] = info.macs
    check_engine_supports(cfg.engine, model)  # refuses unsupported ops by name, before anything is built
    fit = estimate_fit(info, board.name, board.flash_bytes, board.ram_bytes)
    if not fit.fits:
        raise DoesNotFitError(f"{model.name} does not fit {fit.describe()} (estimate before building)")
    samples = _samples(cfg, model)
    row.update(samples=int(samples.x.shape[0]), data_source=samples.source)

    console.log(f"host TFLM reference on {samples.x.shape[0]} samples")
    host_out = run_tflm(cfg.model, samples.x)
    row["accuracy_host"] = _accuracy(host_out, samples.y)
    arena = tflm_arena(cfg.model)
    row["tflm_arena_bytes"], row["tflm_arena_head_bytes"] = arena.total_bytes, arena.head_bytes

    work = cfg.work_dir / f"{model.name}-{board.name}-{cfg.engine}-{cfg.kernels}"
    console.log(f"generating C for the {cfg.engine} engine")
    if cfg.engine == "tflm":
        gen = generate_tflm(model, work / "model", samples.x, name=model.name, arena=arena)
        row["tflm_persistent_bytes"] = gen.persistent_bytes
    else:
        gen = generate(model, work / "model", samples.x, name=model.name)
    row["arena_plan_bytes"] = gen.arena_bytes
    device = run_on_device(cfg, board, gen, work, samples.x.shape[0], console, row)
    _fill_device_columns(row, device, host_out, samples)
    if cfg.out:
        _keep_raw(cfg.out, samples.x, device.outputs.reshape(host_out.shape), row)


def check_engine_supports(engine: str, model: TfliteModel) -> None:
    from harness.codegen import check_supported
    from harness.codegen.tflm_model import check_tflm_supported

    (check_tflm_supported if engine == "tflm" else check_supported)(model)


def _fill_device_columns(row: dict, device: DeviceRun, host_out: np.ndarray, samples: Samples) -> None:
    outputs = device.outputs.reshape(host_out.shape)
    mismatch = np.any(outputs.reshape(len(outputs), -1) != host_out.reshape(len(host_out), -1), axis=1)
    counts = np.asarray(device.latency, dtype=np.int64)
    row.update(device.columns)
    row.update(
        latency_median=int(np.median(counts)),
        latency_min=int(counts.min()),
        latency_max=int(counts.max()),
        host_mismatches=int(mismatch.sum()),
        accuracy_device=_accuracy(outputs, samples.y),
    )
    # The clock the firmware reports having set up, not the board's nominal one: a board whose
    # crystal did not start runs on its internal oscillator.
    clock = row.get("cpu_hz") or row.get("clock_hz")
    if device.unit == "cycles" and clock:
        row["latency_ms"] = row["latency_median"] / clock * 1e3
    else:
        row["latency_ms"] = None  # emulator instructions have no wall-clock meaning
    if row.get("macs"):
        row[f"{device.unit}_per_mac"] = round(row["latency_median"] / row["macs"], 3)


def _without_batch(a: np.ndarray) -> np.ndarray:
    """[N, 1, ...] -> [N, ...]: one row per sample, without the model's batch of 1."""
    return a.reshape(a.shape[0], *a.shape[2:]) if a.ndim > 2 and a.shape[1] == 1 else a


def _keep_raw(out: Path, inputs: np.ndarray, outputs: np.ndarray, row: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "inputs.npy", _without_batch(inputs))
    np.save(out / "outputs.npy", _without_batch(outputs))  # shaped like the host reference's outputs
    (out / "result.json").write_text(json.dumps(row, indent=2, default=str))


def _record(cfg: BenchConfig, row: dict) -> None:
    if cfg.results_dir is None:
        return
    from harness.report import append_results

    append_results([row], cfg.results_dir)
