"""Fold the ops that only compute shapes or constants, and drop what no output needs.

After folding, every tensor has either a known value (numpy array, from the file or computed
here) or is an activation produced at run time. Ops are folded when all the inputs they read
are known; SHAPE reads only its input's static shape, so it always folds. A RESHAPE's shape
operand is never a run-time input: the output tensor's static shape says it all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.model import Operator, TfliteModel

# Inputs (by position) that hold parameters read at generation time, not run-time data.
PARAM_INPUTS = {
    "RESHAPE": {1},
    "MEAN": {1},
    "PAD": {1},
    "PADV2": {1, 2},
    "SQUEEZE": set(),
    "EXPAND_DIMS": {1},
}


def _strided_slice(op: Operator, x, begin, end, strides):
    """numpy slicing with TFLite's masks; None (not folded) for the ellipsis / new-axis forms."""
    o = op.options
    if o.get("ellipsis_mask", 0) or o.get("new_axis_mask", 0):
        return None
    slices, shrink = [], []
    for d in range(len(begin)):
        b, e, s = int(begin[d]), int(end[d]), int(strides[d])
        if o.get("begin_mask", 0) >> d & 1:
            b = None
        if o.get("end_mask", 0) >> d & 1:
            e = None
        if o.get("shrink_axis_mask", 0) >> d & 1:
            e = b + 1 if b not in (None, -1) else None
            shrink.append(d)
        slices.append(slice(b, e, s))
    out = x[tuple(slices)]
    return np.squeeze(out, axis=tuple(shrink)) if shrink else out


def _evaluate(model: TfliteModel, op: Operator, args: list) -> np.ndarray | None:
    """The op's output value from known input values, or None if this op cannot be folded."""
    out_t = model.tensor(op.outputs[0])
    name = op.op
    if name == "SHAPE":
        return np.asarray(model.tensor(op.inputs[0]).shape, dtype=out_t.dtype)
    if any(a is None for a in args):
        return None
    if name in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS"):
        return np.asarray(args[0]).reshape(out_t.shape)
    if name == "STRIDED_SLICE":
        return _strided_slice(op, np.asarray(args[0]), *args[1:4])
    if name == "PACK":
        return np.stack([np.asarray(a) for a in args], axis=op.options.get("axis", 0))
    if name == "CONCATENATION":
        return np.concatenate([np.atleast_1d(a) for a in args], axis=op.options.get("axis", 0))
    if name == "CAST":
        return np.asarray(args[0]).astype(out_t.dtype)
    if name == "GATHER":
        return np.take(args[0], args[1], axis=op.options.get("axis", 0))
    if name in ("ADD", "SUB", "MUL", "FLOOR_DIV") and out_t.quant is None and out_t.dtype.kind in "iu":
        fn = {"ADD": np.add, "SUB": np.subtract, "MUL": np.multiply, "FLOOR_DIV": np.floor_divide}[name]
        return fn(args[0], args[1])
    return None


@dataclass(frozen=True)
class FoldedGraph:
    """Ops that run on the device, in order, and the values known at generation time."""

    ops: tuple[Operator, ...]
    values: dict[int, np.ndarray]
    folded: tuple[Operator, ...]


def fold(model: TfliteModel) -> FoldedGraph:
    values = {t.index: t.data for t in model.tensors if t.data is not None}
    runtime, folded = [], []
    for op in model.operators:
        args = [values.get(i) if i >= 0 else None for i in op.inputs]
        value = _evaluate(model, op, args) if len(op.outputs) == 1 else None
        if value is not None:
            values[op.outputs[0]] = np.asarray(value).astype(model.tensor(op.outputs[0]).dtype)
            folded.append(op)
        else:
            runtime.append(op)
    return FoldedGraph(ops=tuple(_live_ops(model, runtime, values)), values=values, folded=tuple(folded))


def runtime_inputs(op: Operator) -> list[int]:
    """Input tensors an op reads at run time (not its generation-time parameters)."""
    params = PARAM_INPUTS.get(op.op, set())
    return [t for k, t in enumerate(op.inputs) if t >= 0 and k not in params]


def _live_ops(model: TfliteModel, ops: list[Operator], values: dict[int, np.ndarray]) -> list[Operator]:
    """Drop run-time ops whose outputs reach no graph output."""
    needed = set(model.outputs)
    keep = []
    for op in reversed(ops):
        if any(o in needed for o in op.outputs):
            keep.append(op)
            needed.update(t for t in runtime_inputs(op) if t not in values)
    return list(reversed(keep))
