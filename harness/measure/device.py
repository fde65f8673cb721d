"""Run built firmware (or a device's own) on a target, and collect the measurements.

Counts leave here already converted to their unit (cycles on silicon, instructions in an emulator,
see `Target.count_scale`); the figures go into the row as soon as they are known, and each sample
into `received` as it arrives, so a failure in a later step still leaves the earlier ones recorded.
"""

from __future__ import annotations

import bisect
import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness.boards import Board
from harness.build import Firmware
from harness.build.cache import cached_build
from harness.errors import DeviceError
from harness.protocol import Device

READY_TIMEOUT_S = 30.0
COMMAND_TIMEOUT_S = 30.0


@dataclass(frozen=True, eq=False)
class DeviceRun:
    outputs: np.ndarray  # [N, output elements], the model's output dtype
    latency: list[float]  # per sample, in `unit`, timer overhead subtracted
    unit: str
    columns: dict  # further row columns (memory, firmware sizes, provenance of the run)
    raw_latency: list[float] = field(default_factory=list)  # as counted, overhead included
    profiled: list[float] = field(default_factory=list)  # the hooked per-layer pass as a whole


@dataclass
class Received:
    """What the device has sent so far; the caller keeps it whatever happens next."""

    samples: list = field(default_factory=list)  # protocol Sample records, in order
    scale: object = None  # CountScale once IDENTIFY came back
    overhead_ticks: int = 0
    output_dtype: np.dtype | None = None


def _check_model_matches(info, gen, n: int) -> None:
    problems = []
    if info.input_bytes != gen.input_bytes or info.output_bytes != gen.output_bytes:
        problems.append(f"io bytes {info.input_bytes}/{info.output_bytes} vs {gen.input_bytes}/{gen.output_bytes}")
    if info.data_count < n:
        problems.append(f"{info.data_count} samples in flash, {n} wanted")
    if problems:
        raise DeviceError(f"the device runs a different model than generated: {'; '.join(problems)}")


def _per_layer(info, samples, scale) -> str:
    counts = np.array([s.layer_counts for s in samples], dtype=np.float64)
    layers = []
    for i, layer in enumerate(info.layers):
        median = float(np.median(counts[:, i])) * scale.per_tick if counts.size else None
        layers.append({"index": layer.index, "name": layer.name, "op": layer.op, "macs": layer.macs,
                       "count": median, "unit": scale.unit})
    return json.dumps(layers)


def run_on_device(cfg, board: Board, fw: Firmware | None, gen, run_dir: Path, n: int, console: Console, row: dict,
                  received: Received, inputs: np.ndarray | None = None, output_tensor=None,
                  builds: Path | None = None) -> DeviceRun:
    """Start the target with the firmware (None: the device runs its own), run the n flash samples
    (or, over the MLPerf protocol, the n `inputs` sent as the runner sends them); fills `row` and
    `received` as figures arrive."""
    protocol, engine, kind = cfg.protocol, cfg.engine_impl, cfg.target_kind
    run_dir.mkdir(parents=True, exist_ok=True)  # this attempt's logs; the build folder is shared
    console.log(f"starting {cfg.target}")
    if fw is None:  # its sizes are not ours to state: those columns stay empty
        return _run_mlperf(cfg, board, None, run_dir, console, row, received, inputs, output_tensor)
    row.update(kind.columns())
    timed = None
    if kind.timing == "instrumented" and protocol == "tinyhil":
        # -- timing model (harness/timing): estimates beside the instruction counts
        timed = _prepare_timing(cfg, board, fw, gen, builds, run_dir, console)
    if protocol == "mlperf":
        return _run_mlperf(cfg, board, fw, run_dir, console, row, received, inputs, output_tensor)
    with kind.make(cfg, board, fw, run_dir, timed=timed) if timed is not None else kind.make(cfg, board, fw,
                                                                                              run_dir) as target:
        row.update(target.provenance())
        device = Device(target, timeout=COMMAND_TIMEOUT_S)
        device.wait_ready(READY_TIMEOUT_S)
        ident = device.identify()
        if ident.engine != engine.firmware_engine:
            raise DeviceError(f"the device runs the {ident.engine!r} engine, not {engine.firmware_engine!r}: "
                              "wrong firmware?")
        info = device.model_info()
        _check_model_matches(info, gen, n)
        scale = target.count_scale(ident.timer, ident.timer_hz)
        received.scale, received.overhead_ticks, received.output_dtype = scale, ident.timer_overhead, info.output_dtype
        row.update(unit=scale.unit, timer=ident.timer, timer_hz=ident.timer_hz, timer_resolution=scale.resolution,
                   timer_overhead=scale.convert(ident.timer_overhead), firmware=ident.firmware, cpu_hz=ident.cpu_hz)
        memory = device.measure_memory()
        row.update(arena_nonpersistent_bytes=memory.arena_used_bytes, stack_bytes=memory.stack_used_bytes,
                   stack_size_bytes=memory.stack_size_bytes, arena_persistent_bytes=memory.persistent_used_bytes)
        row.update(engine.memory_columns(memory))
        overflow = memory.overflow()
        if overflow:
            raise DeviceError(overflow)
        _run_samples(device, n, cfg, console, received)
    samples = received.samples
    outputs = np.frombuffer(b"".join(s.output for s in samples), dtype=info.output_dtype).reshape(n, -1)
    columns = {}
    if cfg.per_layer:
        columns["per_layer_json"] = _per_layer(info, samples, scale)
    if timed is not None:  # -- timing model: cycles_est, latency_ms_est, energy_uj_est, per-layer cycles_est
        columns.update(timed.estimate_columns(columns.get("per_layer_json"), console.log))
    elif kind.timing == "beside" and scale.unit == "cycles":  # -- and beside silicon's DWT cycles
        columns.update(_estimate_beside(cfg, board, fw, gen, builds, run_dir, n, columns, console))
    raw = [scale.convert(s.count) for s in samples]
    overhead = scale.convert(ident.timer_overhead)
    return DeviceRun(outputs=outputs, latency=[r - overhead for r in raw], unit=scale.unit, columns=columns,
                     raw_latency=raw, profiled=[scale.convert(s.profiled_count) for s in samples])


def _prepare_timing(cfg, board: Board, fw: Firmware, gen, builds: Path, run_dir: Path, console: Console):
    """The timed QEMU run (harness/timing). Without it (no C compiler for the plugin, no timing section)
    a board QEMU models still runs, without estimates; any other board cannot run in QEMU at all."""
    from harness.errors import TinyhilError
    from harness.timing.session import prepare

    try:
        return prepare(board, fw.elf, lambda run_board: cached_build(
            run_board, gen.dir, builds, kernels=cfg.kernels, engine=cfg.engine_impl, timeout=cfg.build_timeout_s,
            protocol="tinyhil").elf, run_dir)
    except TinyhilError as e:
        if not board.qemu_machine:
            raise
        console.log(f"no timing estimate for this run: {e}")
        return None


def _estimate_beside(cfg, board: Board, fw: Firmware, gen, builds: Path, run_dir: Path, n: int, columns: dict,
                     console: Console) -> dict:
    """The timing model's estimate of the run just measured on silicon (harness/timing); a failure
    to estimate loses nothing measured: it is logged and the estimate columns stay empty."""
    from harness.errors import TinyhilError
    from harness.timing.session import estimate_beside

    console.log("estimating the same run with the timing model in QEMU (beside the measured cycles)")
    try:
        return estimate_beside(board, fw.elf, lambda run_board: cached_build(
            run_board, gen.dir, builds, kernels=cfg.kernels, engine=cfg.engine_impl, protocol="tinyhil").elf,
            run_dir, n, cfg.per_layer, columns.get("per_layer_json"), timeout_s=cfg.timeout_s + READY_TIMEOUT_S)
    except (TinyhilError, OSError) as e:
        console.log(f"no estimate beside the measurement: {e}")
        return {}


def _run_mlperf(cfg, board: Board, fw: Firmware | None, run_dir: Path, console: Console, row: dict,
                received: Received, inputs: np.ndarray, output_tensor) -> DeviceRun:
    from harness.measure.mlperf import run_mlperf_session

    with cfg.target_kind.make(cfg, board, fw, run_dir) as target, _progress(cfg, console, len(inputs)) as advance:
        row.update(target.provenance())
        scale = run_mlperf_session(target, cfg, board, inputs, output_tensor, row, received,
                                   COMMAND_TIMEOUT_S, READY_TIMEOUT_S, on_sample=advance)
    outputs = np.frombuffer(b"".join(s.output for s in received.samples), dtype=output_tensor.dtype)
    latency = [scale.convert(s.count) for s in received.samples]
    return DeviceRun(outputs=outputs.reshape(len(inputs), -1), latency=latency, unit=scale.unit, columns={},
                     raw_latency=list(latency))


@contextlib.contextmanager
def _progress(cfg, console: Console, n: int):
    """A per-run bar advanced once per sample (none inside a sweep, whose own bar counts runs)."""
    if not cfg.progress:
        yield lambda _sample: None
        return
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"running on {cfg.target}", total=n)
        yield lambda _sample: progress.advance(task)


def _run_samples(device: Device, n: int, cfg, console: Console, received: Received) -> None:
    with _progress(cfg, console, n) as advance:
        def keep(sample) -> None:
            # in index order: on a noisy link a sample asked for again arrives after later ones
            bisect.insort(received.samples, sample, key=lambda s: s.index)
            advance(sample)

        device.run_flash(0, n, cfg.per_layer, timeout=cfg.timeout_s, on_sample=keep)
