"""Build the firmware for a generated model, run it on a target, and collect the measurements.

Counts leave here already converted to their unit (cycles on silicon, instructions in an emulator,
see `Target.count_scale`); the figures go into the row as soon as they are known, so a failure in a
later step still leaves the earlier ones recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness.boards import Board
from harness.build import Firmware, build_firmware, upload_firmware
from harness.errors import DeviceError
from harness.protocol import Device
from harness.targets import QemuTarget, RenodeTarget, SerialTarget, Target
from harness.targets.qemu import qemu_version

READY_TIMEOUT_S = 30.0
COMMAND_TIMEOUT_S = 30.0


@dataclass(frozen=True, eq=False)
class DeviceRun:
    outputs: np.ndarray  # [N, output elements], the model's output dtype
    latency: list[float]  # per sample, in `unit`
    unit: str
    columns: dict  # further row columns (memory, firmware sizes, provenance of the run)


def make_target(target: str, board: Board, firmware: Firmware, work: Path, cfg) -> Target:
    if target == "qemu":
        return QemuTarget(board, firmware.elf, log_dir=work, max_seconds=cfg.timeout_s + READY_TIMEOUT_S)
    if target == "renode":
        return RenodeTarget(board, firmware.elf, work)
    # Flash (and so reset) the board once the port is open, or its boot line would be missed.
    return SerialTarget(cfg.port, board.uart.baud, log_path=work / "serial.log",
                        reset=lambda: upload_firmware(firmware))


def _firmware_columns(fw: Firmware, gen) -> dict:
    return {
        "flash_bytes": fw.flash_bytes,
        "ram_bytes": fw.ram_bytes,
        "flash_weights_bytes": gen.weight_bytes,
        "flash_data_bytes": gen.data_bytes,
        "flash_code_bytes": fw.flash_bytes - gen.weight_bytes - gen.data_bytes,
        "sections_json": json.dumps(fw.sections),
        "toolchain_version": fw.toolchain,
        "platformio_version": fw.platformio,
        "build_seconds": fw.build_seconds,
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


def run_on_device(cfg, board: Board, gen, work: Path, n: int, console: Console, row: dict) -> DeviceRun:
    """Build, start the target, run the n flash samples; fills `row` as figures arrive."""
    console.log(f"building firmware for {board.name} ({cfg.engine} engine, {cfg.kernels} kernels) with PlatformIO")
    fw = build_firmware(board, gen.dir, work / "firmware", kernels=cfg.kernels, engine=cfg.engine)
    row.update(_firmware_columns(fw, gen))
    console.log(f"firmware: {fw.flash_bytes:,} B flash, {fw.ram_bytes:,} B RAM; starting {cfg.target}")
    if cfg.target == "qemu":
        row["qemu_version"] = qemu_version()
    with make_target(cfg.target, board, fw, work, cfg) as target:
        device = Device(target, timeout=COMMAND_TIMEOUT_S)
        device.wait_ready(READY_TIMEOUT_S)
        ident = device.identify()
        if ident.engine != cfg.engine:
            raise DeviceError(f"the device runs the {ident.engine!r} engine, not {cfg.engine!r}: wrong firmware?")
        info = device.model_info()
        _check_model_matches(info, gen, n)
        scale = target.count_scale(ident.timer, ident.timer_hz)
        row.update(unit=scale.unit, timer=ident.timer, timer_hz=ident.timer_hz, timer_resolution=scale.resolution,
                   firmware=ident.firmware, cpu_hz=ident.cpu_hz)
        memory = device.measure_memory()
        row.update(arena_bytes=memory.arena_used_bytes, stack_bytes=memory.stack_used_bytes,
                   static_ram_bytes=memory.static_ram_bytes)
        samples = _run_samples(device, n, cfg, console)
    outputs = np.frombuffer(b"".join(s.output for s in samples), dtype=info.output_dtype).reshape(n, -1)
    columns = {}
    if cfg.per_layer:
        columns["per_layer_json"] = _per_layer(info, samples, scale)
    return DeviceRun(outputs=outputs, latency=[scale.convert(s.count) for s in samples], unit=scale.unit,
                     columns=columns)


def _run_samples(device: Device, n: int, cfg, console: Console) -> list:
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"running on {cfg.target}", total=n)
        return device.run_flash(0, n, cfg.per_layer, timeout=cfg.timeout_s,
                                on_sample=lambda _s: progress.advance(task))
