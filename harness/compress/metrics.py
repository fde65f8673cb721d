"""Size, sparsity and compute figures of a variant, measured from its files and weights."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.model import load_tflite, total_macs

WEIGHT_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV")


@dataclass(frozen=True)
class FileFigures:
    """Figures read from the .tflite itself (what the device gets)."""

    tflite_bytes: int
    gzip_bytes: int  # gzip -9: shows what sparsity/clustering would save with compressed storage
    macs: int  # harness.model.total_macs over the .tflite operators
    params: int  # elements of the constant weight + bias tensors of those ops
    weight_count: int  # elements of the conv/dense weight tensors
    nonzero_fraction: float  # of those weight elements (biases excluded: they are never pruned)


def file_figures(tflite_path: Path) -> FileFigures:
    raw = Path(tflite_path).read_bytes()
    model = load_tflite(tflite_path)
    weights = _weight_tensors(model)
    params = sum(w.size for w in weights) + sum(b.size for b in _bias_tensors(model))
    count = sum(w.size for w in weights)
    nonzero = sum(int(np.count_nonzero(w)) for w in weights)
    return FileFigures(
        tflite_bytes=len(raw),
        gzip_bytes=len(gzip.compress(raw, compresslevel=9, mtime=0)),
        macs=int(total_macs(model)),
        params=int(params),
        weight_count=int(count),
        nonzero_fraction=nonzero / count if count else 1.0,
    )


def _constant_inputs(model, position: int) -> list[np.ndarray]:
    """Constant input `position` (1 weights, 2 bias) of the weight ops; float16 constants sit
    behind a DEQUANTIZE op, whose input is then the stored tensor."""
    producers = {out: op for op in model.operators for out in op.outputs}
    found: dict[int, np.ndarray] = {}
    for op in model.operators:
        if op.op not in WEIGHT_OPS or len(op.inputs) <= position or op.inputs[position] < 0:
            continue
        index = op.inputs[position]
        if model.tensor(index).data is None and index in producers and producers[index].op == "DEQUANTIZE":
            index = producers[index].inputs[0]
        if model.tensor(index).data is not None:
            found[index] = np.asarray(model.tensor(index).data)
    return list(found.values())


def _weight_tensors(model) -> list[np.ndarray]:
    return _constant_inputs(model, 1)


def _bias_tensors(model) -> list[np.ndarray]:
    return _constant_inputs(model, 2)


def keras_kernels(model) -> list[np.ndarray]:
    """Kernel arrays of conv/dense layers, looking inside tfmot wrappers."""
    kernels = []
    for layer in model.layers:
        inner = getattr(layer, "layer", layer)
        for name in ("kernel", "depthwise_kernel"):
            variable = getattr(inner, name, None)
            if variable is not None:
                kernels.append(np.asarray(variable.numpy()))
    return kernels
