"""Run built firmware (or a device's own) on a target, and collect the measurements.

Counts leave here already converted to their unit (cycles on silicon, instructions in an emulator,
see `Target.count_scale`). What the device reports goes into `received` as typed records as soon
as it is known (what ran it, its timer, its memory, each sample), so a failure in a later step
still leaves the earlier ones recorded; a finished run is one `DeviceRun` (harness/measure/records.py).
The timing model is the registered one the configuration names (`harness.plugins.TIMING_MODELS`).
"""

from __future__ import annotations

import bisect
import contextlib
import json
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness.boards import Board
from harness.build import Firmware
from harness.build.cache import cached_build
from harness.errors import DeviceError, TinyhilError
from harness.measure.records import DeviceRun, MemoryMeasurement, Received, TargetFacts, TimerFacts, TimingEstimate
from harness.plugins import TIMING_MODELS
from harness.plugins.timing import InstrumentedTimingModel
from harness.protocol import Device

READY_TIMEOUT_S = 30.0
COMMAND_TIMEOUT_S = 30.0


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


def run_on_device(cfg, board: Board, fw: Firmware | None, gen, run_dir: Path, n: int, console: Console,
                  received: Received, inputs: np.ndarray | None = None, output_tensor=None,
                  builds: Path | None = None) -> DeviceRun:
    """Start the target with the firmware (None: the device runs its own), run the n flash samples
    (or, over the MLPerf protocol, the n `inputs` sent as the runner sends them); fills `received`
    as figures arrive."""
    protocol, engine, kind = cfg.protocol, cfg.engine_impl, cfg.target_kind
    run_dir.mkdir(parents=True, exist_ok=True)  # this attempt's logs; the build folder is shared
    console.log(f"starting {cfg.target}")
    if fw is None:  # its sizes are not ours to state: those columns stay empty
        return _run_mlperf(cfg, board, None, run_dir, console, received, inputs, output_tensor)
    received.target = TargetFacts(kind=kind.columns())
    timed = None
    if kind.timing == "instrumented" and protocol == "tinyhil":
        # -- timing model (harness/timing): estimates beside the instruction counts
        timed = _prepare_timing(cfg, board, fw, gen, builds, run_dir, console)
    if protocol == "mlperf":
        return _run_mlperf(cfg, board, fw, run_dir, console, received, inputs, output_tensor)
    with kind.make(cfg, board, fw, run_dir, timed=timed) if timed is not None else kind.make(cfg, board, fw,
                                                                                              run_dir) as target:
        received.target = TargetFacts(kind=received.target.kind, started=target.provenance())
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
        received.timer = TimerFacts(unit=scale.unit, timer=ident.timer, timer_hz=ident.timer_hz,
                                    timer_resolution=scale.resolution,
                                    timer_overhead=scale.convert(ident.timer_overhead),
                                    firmware=ident.firmware, cpu_hz=ident.cpu_hz)
        memory = device.measure_memory()
        received.memory = MemoryMeasurement.from_report(memory, engine)
        overflow = memory.overflow()
        if overflow:
            raise DeviceError(overflow)
        _run_samples(device, n, cfg, console, received)
    samples = received.samples
    outputs = np.frombuffer(b"".join(s.output for s in samples), dtype=info.output_dtype).reshape(n, -1)
    per_layer_json = None
    if cfg.per_layer and not engine.resolves_layers:
        console.log(f"per-layer: the {engine.name} build has no per-operator events; the row carries no "
                    "per-layer counts (its layer 0 would hold the whole inference)")
    elif cfg.per_layer:
        per_layer_json = _per_layer(info, samples, scale)
    estimate = {}
    if timed is not None:  # -- timing model: cycles_est, latency_ms_est, energy_uj_est, per-layer cycles_est
        estimate = timed.estimate_columns(per_layer_json, console.log)
    elif kind.timing == "beside" and scale.unit == "cycles":  # -- and beside silicon's DWT cycles
        estimate = _estimate_beside(cfg, board, fw, gen, builds, run_dir, n, per_layer_json, console)
    estimate = dict(estimate)
    per_layer_json = estimate.pop("per_layer_json", per_layer_json)  # with the estimate's per-layer cycles
    raw = [scale.convert(s.count) for s in samples]
    overhead = scale.convert(ident.timer_overhead)
    return DeviceRun(outputs=outputs, latency=[r - overhead for r in raw], unit=scale.unit, raw_latency=raw,
                     profiled=[scale.convert(s.profiled_count) for s in samples], per_layer_json=per_layer_json,
                     estimate=TimingEstimate.of(estimate))


def _timing_model(cfg, console: Console) -> InstrumentedTimingModel | None:
    """The registered timing model the configuration names, if the measure stage can run it."""
    model = TIMING_MODELS.get(cfg.timing_model)
    if not isinstance(model, InstrumentedTimingModel):
        console.log(f"no timing estimate for this run: the timing model {model.name} does not instrument a run")
        return None
    return model


def _build_for(cfg, gen, builds: Path, timeout: float | None = None):
    """Build the same engine and model for another board (the machine that emulates the named one)."""
    extra = {} if timeout is None else {"timeout": timeout}
    return lambda run_board: cached_build(run_board, gen.dir, builds, kernels=cfg.kernels, engine=cfg.engine_impl,
                                          protocol="tinyhil", settings=cfg.settings, **extra).elf


def _prepare_timing(cfg, board: Board, fw: Firmware, gen, builds: Path, run_dir: Path, console: Console):
    """The timed QEMU run (the timing model's). Without it (no C compiler for the plugin, no timing
    section) a board QEMU models still runs, without estimates; any other board cannot run in QEMU at all."""
    model = _timing_model(cfg, console)
    if model is None:
        if not board.qemu_machine:
            raise TinyhilError(f"QEMU does not model board {board.name!r}, and the timing model {cfg.timing_model} "
                               "cannot run it on another machine")
        return None
    try:
        return model.prepare_run(board, fw.elf, _build_for(cfg, gen, builds, cfg.build_timeout_s), run_dir,
                                 cfg.settings)
    except TinyhilError as e:
        if not board.qemu_machine:
            raise
        console.log(f"no timing estimate for this run: {e}")
        return None


def _estimate_beside(cfg, board: Board, fw: Firmware, gen, builds: Path, run_dir: Path, n: int,
                     per_layer_json: str | None, console: Console) -> dict:
    """The timing model's estimate of the run just measured on silicon; a failure to estimate loses
    nothing measured: it is logged and the estimate columns stay empty."""
    model = _timing_model(cfg, console)
    if model is None:
        return {}
    console.log("estimating the same run with the timing model in QEMU (beside the measured cycles)")
    try:
        return dict(model.estimate_beside(board, fw.elf, _build_for(cfg, gen, builds), run_dir, n, cfg.per_layer,
                                          per_layer_json, cfg.timeout_s + READY_TIMEOUT_S, cfg.settings))
    except (TinyhilError, OSError) as e:
        console.log(f"no estimate beside the measurement: {e}")
        return {}


def _run_mlperf(cfg, board: Board, fw: Firmware | None, run_dir: Path, console: Console,
                received: Received, inputs: np.ndarray, output_tensor) -> DeviceRun:
    from harness.measure.mlperf import run_mlperf_session

    with cfg.target_kind.make(cfg, board, fw, run_dir) as target, _progress(cfg, console, len(inputs)) as advance:
        kind = received.target.kind if received.target else {}
        received.target = TargetFacts(kind=kind, started=target.provenance())
        scale = run_mlperf_session(target, cfg, board, inputs, output_tensor, received,
                                   COMMAND_TIMEOUT_S, READY_TIMEOUT_S, on_sample=advance)
    outputs = np.frombuffer(b"".join(s.output for s in received.samples), dtype=output_tensor.dtype)
    latency = [scale.convert(s.count) for s in received.samples]
    return DeviceRun(outputs=outputs.reshape(len(inputs), -1), latency=latency, unit=scale.unit,
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
