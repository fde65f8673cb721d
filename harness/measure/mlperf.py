"""A benchmark session over the MLPerf Tiny runner protocol (`--protocol mlperf`).

Each sample goes over the wire as the runner sends it (`db load`, `db <hex>`), then `infer N W`;
the two m-lap-us stamps give the latency of one inference as (end - start) / N, and m-results the
outputs: tinyhil's firmware prints them (dequantized when the output is quantized) in nine
significant digits, which give back the float32 exactly, so quantizing back with the model's scale
and zero point recovers the integers and they compare bit-exact with the host TFLM reference.
Everything lands in the same `Received` record as the framed protocol's samples, so rows,
per-sample tables and partial failures work alike.
"""

from __future__ import annotations

import numpy as np

from harness.errors import DeviceError, ProtocolError
from harness.measure.records import MemoryMeasurement, MlperfSession, Received, TimerFacts
from harness.protocol.messages import MemoryReport, Sample
from harness.protocol.mlperf import MlperfDevice
from harness.targets.base import CountScale, Target

TIMER = "mlperf_lap_us"  # the row's timer when the device does not say which counter it reads


def requantize(values: tuple[float, ...], tensor) -> bytes:
    """Dequantized results back to the output tensor's integers (the values themselves when the
    output has no per-tensor quantization: the device then printed integers)."""
    elements = int(np.prod(tensor.shape)) if len(tensor.shape) else 1
    if len(values) != elements:
        raise ProtocolError(f"m-results has {len(values)} values, the model output has {elements}")
    real = np.asarray(values, dtype=np.float64)
    if tensor.dtype.kind == "f":  # nine significant digits give back the device's float32 exactly
        return real.astype(tensor.dtype).tobytes()
    quant = tensor.quant
    if quant is not None and quant.scale.size == 1 and quant.scale[0] != 0:
        real = np.round(real / quant.scale[0]) + quant.zero_point[0]
    limits = np.iinfo(tensor.dtype)
    if np.any(real < limits.min) or np.any(real > limits.max) or np.any(real != np.round(real)):
        raise ProtocolError(f"m-results values do not map onto {tensor.dtype} outputs")
    return real.astype(tensor.dtype).tobytes()


def _memory(fields: dict[str, str]) -> MemoryReport:
    keys = ("arena_plan", "arena_used", "stack_used", "stack_size", "static_ram", "arena_guard", "stack_guard",
            "persistent_used", "engine_arena_used")
    try:
        return MemoryReport(*(int(fields[k]) for k in keys))
    except (KeyError, ValueError) as e:
        raise ProtocolError(f"tinyhil-info memory line lacks a number: {e}") from None


def run_mlperf_session(target: Target, cfg, board, inputs: np.ndarray, output_tensor, received: Received,
                       command_timeout: float, ready_timeout: float, on_sample=None) -> CountScale:
    """Drive the device through every sample; fills `received` (typed records, then the samples) as
    answers arrive and returns the scale its counts were converted with."""
    iterations, warmup, engine = cfg.mlperf_iterations, cfg.mlperf_warmup, cfg.engine_impl
    device = MlperfDevice(target, timeout=command_timeout)
    device.wait_ready(ready_timeout)
    received.mlperf = MlperfSession(device_name=device.name(), profile=device.profile(), iterations=iterations,
                                    warmup=warmup)
    info = device.tinyhil_info()
    timer, timer_hz = TIMER, board.clock_hz
    firmware = cpu_hz = None
    if info is not None:  # tinyhil's own firmware: the same identity and memory checks as the framed protocol
        ident = info["identity"]
        if engine.builds_firmware and ident.get("engine") != engine.firmware_engine:
            raise DeviceError(f"the device runs the {ident.get('engine')!r} engine, not "
                              f"{engine.firmware_engine!r}: wrong firmware?")
        io = (int(inputs[0].nbytes), int(output_tensor.nbytes))
        if (int(ident["input_bytes"]), int(ident["output_bytes"])) != io:
            raise DeviceError(f"the device runs a different model: io bytes {ident['input_bytes']}/"
                              f"{ident['output_bytes']}, the model's {io[0]}/{io[1]}")
        timer, timer_hz = ident["timer"], int(ident["timer_hz"])
        firmware, cpu_hz = ident["firmware"], int(ident["cpu_hz"])
        memory = _memory(info["memory"])
        received.memory = MemoryMeasurement.from_report(memory, engine)
        if memory.overflow():
            raise DeviceError(memory.overflow())
    scale = target.count_scale(timer if timer != TIMER else "systick", timer_hz)
    ticks_per_us = timer_hz / 1e6
    # One stamp step is a microsecond of the device's timer; spread over the N inferences of a window.
    step = CountScale(scale.unit, scale.per_tick, scale.convert(ticks_per_us) / iterations)
    received.scale, received.overhead_ticks, received.output_dtype = step, 0, output_tensor.dtype
    received.timer = TimerFacts(unit=step.unit, timer=timer, timer_hz=timer_hz, timer_resolution=step.resolution,
                                timer_overhead=0.0, firmware=firmware, cpu_hz=cpu_hz)
    for index in range(len(inputs)):
        device.load(np.ascontiguousarray(inputs[index]).tobytes())
        result = device.infer(iterations, warmup, timeout=cfg.timeout_s)
        ticks = result.elapsed_us * ticks_per_us / iterations
        sample = Sample(index, ticks, (), requantize(result.results, output_tensor))
        received.samples.append(sample)
        if on_sample:
            on_sample(sample)
    return step
