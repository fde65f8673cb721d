"""Host TFLM reference: run a .tflite with the `tflite-micro` Python runtime and read its arena.

TFLM is the reference the device must match bit for bit. Its C++ side logs to stderr (fd 2), so
every call into it runs under an fd-level capture: the log becomes part of our error messages,
and the RecordingMicroAllocator totals are parsed out of it.

Sample layout: `inputs` is `[N, *sample_shape]`, where the sample shape is the input tensor's
shape with its leading batch dimension of 1 dropped (the full tensor shape is accepted too).
Outputs come back the same way: `[N, *output_shape_without_batch_1]`, in the output's dtype.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import DataError, ModelFormatError
from harness.model import TfliteModel, load_tflite
from harness.reference.capture import capture_fds

# Host arena handed to TFLM. Only the part actually used is reported; being generous here just
# avoids "arena too small" failures on big models (the host mallocs it lazily).
_ARENA_SLACK_BYTES = 16 * 1024 * 1024

_ALLOCATION_LINE = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")


@dataclass(frozen=True)
class TflmArena:
    """TFLM's arena use for one model, as its RecordingMicroAllocator measured it (host build).

    head_bytes: the non-persistent "head" of the arena, i.e. the activation plan the memory
        planner lays out (tensors sharing space by lifetime) plus kernel scratch buffers.
    tail_bytes: the persistent "tail": runtime structs (eval tensors, node/registration records,
        op data, quantization params) that live for the interpreter's lifetime.
    total_bytes: head + tail, the arena size TFLM needs. Struct sizes in the tail are those of the
        64-bit host; a 32-bit MCU needs somewhat less tail.
    """

    total_bytes: int
    head_bytes: int
    tail_bytes: int


def run_tflm(model_path: str | Path, inputs: np.ndarray) -> np.ndarray:
    """Run every sample of `inputs` through host TFLM; one interpreter, reset between samples."""
    model = load_tflite(model_path)
    _require_single_io(model)
    in_tensor = model.tensors[model.inputs[0]]
    out_tensor = model.tensors[model.outputs[0]]
    samples = _as_samples(inputs, in_tensor.shape, in_tensor.dtype, model.path)
    interpreter = _make_interpreter(model)
    outputs = np.empty((len(samples), *_sample_shape(out_tensor.shape)), dtype=out_tensor.dtype)
    with capture_fds(2) as log:
        try:
            for i, sample in enumerate(samples):
                interpreter.reset()
                interpreter.set_input(sample.reshape(in_tensor.shape), 0)
                interpreter.invoke()
                outputs[i] = np.asarray(interpreter.get_output(0)).reshape(outputs.shape[1:])
        except RuntimeError as e:
            failure = e
        else:
            failure = None
    if failure is not None:
        raise ModelFormatError(_refusal(model, f"invoke failed: {failure}", log.text(2))) from failure
    return outputs


def tflm_arena(model_path: str | Path) -> TflmArena:
    """Arena totals of host TFLM for the model, measured after one inference on a zero input."""
    model = load_tflite(model_path)
    _require_single_io(model)
    in_tensor = model.tensors[model.inputs[0]]
    interpreter = _make_interpreter(model)
    with capture_fds(2) as log:
        try:
            interpreter.set_input(np.zeros(in_tensor.shape, in_tensor.dtype), 0)
            interpreter.invoke()
            interpreter.print_allocations()
            failure = None
        except RuntimeError as e:
            failure = e
    if failure is not None:
        raise ModelFormatError(_refusal(model, f"invoke failed: {failure}", log.text(2))) from failure
    return parse_allocations(log.text(2))


def parse_allocations(text: str) -> TflmArena:
    """Read the total/head/tail lines that `print_allocations()` writes."""
    found = {kind: int(value) for kind, value in _ALLOCATION_LINE.findall(text)}
    missing = {"total", "head", "tail"} - found.keys()
    if missing:
        raise ModelFormatError(
            f"TFLM printed no arena {', '.join(sorted(missing))} figure; its log was:\n{text.strip()}"
        )
    return TflmArena(total_bytes=found["total"], head_bytes=found["head"], tail_bytes=found["tail"])


def _make_interpreter(model: TfliteModel):
    from tflite_micro.python.tflite_micro import runtime

    data = model.path.read_bytes()
    with capture_fds(2) as log:
        try:
            interpreter = runtime.Interpreter.from_bytes(
                data,
                arena_size=10 * len(data) + _ARENA_SLACK_BYTES,
                intrepreter_config=runtime.InterpreterConfig.kAllocationRecording,
            )
            failure = None
        except (RuntimeError, ValueError) as e:
            failure = e
    if failure is not None:
        raise ModelFormatError(_refusal(model, str(failure), log.text(2))) from failure
    return interpreter


def _refusal(model: TfliteModel, what: str, log: str) -> str:
    reason = diagnose_tflm_refusal(model)
    lines = [f"TFLM cannot run {model.path.name}: {reason or what}"]
    if reason:
        lines.append(f"(TFLM said: {what})")
    if log.strip():
        lines.append("TFLM log:\n" + log.strip())
    return "\n".join(lines)


def diagnose_tflm_refusal(model: TfliteModel) -> str | None:
    """Name the known model features TFLM has no kernels for, or None if none is present."""
    ops = set(model.op_names)
    if "DENSIFY" in ops:
        return "sparse model: it holds a DENSIFY op (Optimize.EXPERIMENTAL_SPARSITY), which TFLM lacks"
    if any(t.dtype == np.float16 for t in model.tensors):
        return "float16-quantized model: TFLM cannot dequantize float16 weights"
    if _is_dynamic_range(model):
        return (
            "dynamic-range quantized model: float activations with int8 weights need hybrid kernels, "
            "which TFLM lacks (use full-integer quantization with a representative dataset)"
        )
    custom = sorted(op for op in ops if op.startswith("CUSTOM:"))
    if custom:
        return f"custom ops not registered in TFLM: {', '.join(custom)}"
    return None


def _is_dynamic_range(model: TfliteModel) -> bool:
    """An op computing in float32 whose constant weights are int8: the hybrid (dynamic-range) form."""
    for op in model.operators:
        if op.op in ("QUANTIZE", "DEQUANTIZE"):
            continue
        tensors = [model.tensors[i] for i in op.inputs if i >= 0]
        float_activation = any(t.dtype == np.float32 and not t.is_constant for t in tensors)
        int8_weight = any(t.dtype == np.int8 and t.is_constant for t in tensors)
        if float_activation and int8_weight:
            return True
    return False


def _require_single_io(model: TfliteModel) -> None:
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelFormatError(
            f"{model.path.name} has {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
            "the reference runner handles one of each"
        )


def _sample_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    return shape[1:] if len(shape) > 1 and shape[0] == 1 else shape


def _as_samples(inputs: np.ndarray, shape: tuple[int, ...], dtype: np.dtype, path: Path) -> np.ndarray:
    inputs = np.asarray(inputs)
    if inputs.dtype != dtype:
        raise DataError(
            f"inputs for {path.name} are {inputs.dtype}, the model's input is {np.dtype(dtype)}; "
            "quantize or cast them first"
        )
    sample = _sample_shape(shape)
    per_sample = int(np.prod(sample, dtype=np.int64))
    if inputs.ndim >= 1 and inputs.shape[1:] in (tuple(sample), tuple(shape)):
        return inputs.reshape(len(inputs), per_sample)
    raise DataError(
        f"inputs for {path.name} have shape {inputs.shape}; expected [N, {', '.join(map(str, sample))}]"
    )
