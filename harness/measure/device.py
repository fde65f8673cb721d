"""Build the firmware for a generated model, run it on a target, and collect the measurements.

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
from harness.build import Firmware, upload_firmware
from harness.build.cache import cached_build
from harness.build.memory_split import split_memory
from harness.errors import DeviceError
from harness.protocol import Device
from harness.report.provenance import qemu_version  # one format per tool: `qemu-system-arm 7.2.22`
from harness.targets import QemuTarget, RenodeTarget, SerialTarget, Target
from harness.targets.serial_port import find_port

READY_TIMEOUT_S = 30.0
COMMAND_TIMEOUT_S = 30.0
RENODE_STARTUP_S = 180.0  # Renode's own start and platform load, on top of the device's time


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


def make_target(target: str, board: Board, firmware: Firmware | None, work: Path, cfg) -> Target:
    if target == "qemu":
        return QemuTarget(board, firmware.elf, log_dir=work, max_seconds=cfg.timeout_s + READY_TIMEOUT_S)
    if target == "renode":
        return RenodeTarget(board, firmware.elf, work, max_seconds=cfg.timeout_s + RENODE_STARTUP_S)
    if target == "labgrid":
        from harness.targets.labgrid_place import LabgridTarget, place_and_coordinator

        place, coordinator = place_and_coordinator(cfg.place, cfg.coordinator)
        return LabgridTarget(board, place, coordinator, log_path=work / "serial.log")
    # Flash (and so reset) the board once the port is open, or its boot line would be missed. A
    # board with its own firmware (firmware None) is left as it is.
    return SerialTarget(cfg.port or find_port(board), board.uart.baud, log_path=work / "serial.log",
                        reset=(lambda: upload_firmware(firmware)) if firmware is not None else None)


def _firmware_columns(fw: Firmware, gen, engine_dirs: tuple[Path, ...] = ()) -> dict:
    if fw.tflm is not None:  # TFLM's compile units name the tree's sources: they are the engine's
        engine_dirs = (*engine_dirs, fw.tflm.tree.path)
    split = split_memory(fw.elf, fw.model_dir, engine_dirs, arena_plan_bytes=gen.arena_bytes)
    return {
        "flash_bytes": fw.flash_bytes,
        "ram_bytes": fw.ram_bytes,
        **split.columns(),
        "deploy_flash_bytes": split.deploy_flash_bytes,
        "sections_json": json.dumps(fw.sections),
        "toolchain_version": fw.toolchain,
        "platformio_version": fw.platformio,
        "build_seconds": fw.build_seconds,
        "build_id": fw.build_id,
        "build_cached": fw.cached,
        **(fw.tflm.columns() if fw.tflm is not None else {}),  # the TFLM tree, commit, kernel set, library
    }


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


def run_on_device(cfg, board: Board, gen, builds: Path, run_dir: Path, n: int, console: Console, row: dict,
                  received: Received, engine_dirs: tuple[Path, ...] = (), inputs: np.ndarray | None = None,
                  output_tensor=None) -> DeviceRun:
    """Build (or reuse), start the target, run the n flash samples (or, over the MLPerf protocol,
    the n `inputs` sent as the runner sends them); fills `row` and `received` as figures arrive."""
    protocol = getattr(cfg, "protocol", "tinyhil")
    run_dir.mkdir(parents=True, exist_ok=True)  # this attempt's logs; the build folder is shared
    if getattr(cfg, "external_firmware", False):  # its sizes are not ours to state: those columns stay empty
        console.log(f"the device runs its own firmware: nothing built or flashed; starting {cfg.target}")
        return _run_mlperf(cfg, board, None, run_dir, console, row, received, inputs, output_tensor)
    console.log(f"building firmware for {board.name} ({cfg.engine} engine, {cfg.kernels} kernels, {protocol} "
                "protocol) with PlatformIO")
    fw = cached_build(board, gen.dir, builds, kernels=cfg.kernels, engine=cfg.engine,
                      timeout=getattr(cfg, "build_timeout_s", 900.0), protocol=protocol)
    row.update(_firmware_columns(fw, gen, engine_dirs))
    console.log(f"firmware {fw.build_id}{' (cached)' if fw.cached else ''}: {fw.flash_bytes:,} B flash, "
                f"{fw.ram_bytes:,} B RAM; starting {cfg.target}")
    if cfg.target == "qemu":
        row["qemu_version"] = qemu_version()
    if protocol == "mlperf":
        return _run_mlperf(cfg, board, fw, run_dir, console, row, received, inputs, output_tensor)
    with make_target(cfg.target, board, fw, run_dir, cfg) as target:
        row.update(target.provenance())
        device = Device(target, timeout=COMMAND_TIMEOUT_S)
        device.wait_ready(READY_TIMEOUT_S)
        ident = device.identify()
        if ident.engine != cfg.engine:
            raise DeviceError(f"the device runs the {ident.engine!r} engine, not {cfg.engine!r}: wrong firmware?")
        info = device.model_info()
        _check_model_matches(info, gen, n)
        scale = target.count_scale(ident.timer, ident.timer_hz)
        received.scale, received.overhead_ticks, received.output_dtype = scale, ident.timer_overhead, info.output_dtype
        row.update(unit=scale.unit, timer=ident.timer, timer_hz=ident.timer_hz, timer_resolution=scale.resolution,
                   timer_overhead=scale.convert(ident.timer_overhead), firmware=ident.firmware, cpu_hz=ident.cpu_hz)
        memory = device.measure_memory()
        row.update(arena_nonpersistent_bytes=memory.arena_used_bytes, stack_bytes=memory.stack_used_bytes,
                   stack_size_bytes=memory.stack_size_bytes, arena_persistent_bytes=memory.persistent_used_bytes)
        if cfg.engine == "tflm":
            row["tflm_arena_used_bytes"] = memory.engine_arena_used_bytes  # TFLM's own figure, as a check
        overflow = memory.overflow()
        if overflow:
            raise DeviceError(overflow)
        _run_samples(device, n, cfg, console, received)
    samples = received.samples
    outputs = np.frombuffer(b"".join(s.output for s in samples), dtype=info.output_dtype).reshape(n, -1)
    columns = {}
    if cfg.per_layer:
        columns["per_layer_json"] = _per_layer(info, samples, scale)
    raw = [scale.convert(s.count) for s in samples]
    overhead = scale.convert(ident.timer_overhead)
    return DeviceRun(outputs=outputs, latency=[r - overhead for r in raw], unit=scale.unit, columns=columns,
                     raw_latency=raw, profiled=[scale.convert(s.profiled_count) for s in samples])


def _run_mlperf(cfg, board: Board, fw: Firmware | None, run_dir: Path, console: Console, row: dict,
                received: Received, inputs: np.ndarray, output_tensor) -> DeviceRun:
    from harness.measure_mlperf import run_mlperf_session

    with make_target(cfg.target, board, fw, run_dir, cfg) as target, _progress(cfg, console, len(inputs)) as advance:
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
    if not getattr(cfg, "progress", True):
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
