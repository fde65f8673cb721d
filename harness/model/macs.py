"""Multiply-accumulate counts per operator (the figure instructions/MAC and cycles/MAC divide by).

Only ops whose cost is dominated by multiply-accumulates count (convolutions, fully connected,
batch matmul); elementwise, pooling and data-movement ops count 0, as in MLPerf Tiny's figures.
"""

from __future__ import annotations

import numpy as np

from harness.model.tflite_file import Operator, TfliteModel


def _numel(shape) -> int:
    return int(np.prod(shape, dtype=np.int64))


def layer_macs(model: TfliteModel, op: Operator) -> int:
    out = model.tensor(op.outputs[0]).shape if op.outputs else ()
    if op.op == "CONV_2D":
        filt = model.tensor(op.inputs[1]).shape  # [O, H, W, I]
        return _numel(out) * _numel(filt[1:])
    if op.op == "DEPTHWISE_CONV_2D":
        filt = model.tensor(op.inputs[1]).shape  # [1, H, W, C*M]
        return _numel(out) * filt[1] * filt[2]
    if op.op == "TRANSPOSE_CONV":
        filt = model.tensor(op.inputs[1]).shape  # [O, H, W, I]
        inp = model.tensor(op.inputs[2]).shape
        return _numel(inp) * filt[0] * filt[1] * filt[2]
    if op.op == "FULLY_CONNECTED":
        weights = model.tensor(op.inputs[1]).shape  # [out, in]
        return _numel(out) * weights[-1]
    if op.op == "BATCH_MATMUL":
        a = model.tensor(op.inputs[0]).shape
        return _numel(out) * a[-1]
    return 0


def total_macs(model: TfliteModel) -> int:
    return sum(layer_macs(model, op) for op in model.operators)
