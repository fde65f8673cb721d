"""Ahead-of-time code generation: a .tflite model compiled into C for the builtin int8 engine.

    check_supported(model)                       -> None, or raises UnsupportedOpsError
    generate(model, out_dir, inputs, name=..., optimize="speed"|"size")
                                                 -> GeneratedModel (out_dir/model.c, out_dir/data.c)

model.c implements firmware/include/tinyhil_model.h: weights and requantization constants as
flash arrays, a statically planned arena, and a straight-line th_model_invoke.

Stages (one module each): fold.py evaluates shape/constant ops; program.py lowers the rest
(lower_heavy.py, lower_light.py; quant.py computes TFLM's multipliers) and plans storage
(arena.py, overlap.py, scratch.py); emit.py writes the C.
Storage: the graph input is read where the caller keeps it (flash for the bundled data), the
graph output is written straight into the caller's buffer, RESHAPE-like ops are aliases, and
everything else lives in th_arena, where a layer's output may overlap the input dying at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.codegen.context import OPTIMIZE_MODES, check_optimize
from harness.codegen.emit import write_sources
from harness.codegen.placement import RamBudget, place_program, weight_bytes, weight_layout
from harness.codegen.program import SUPPORTED_OPS, check_ops
from harness.errors import DataError
from harness.model import TfliteModel, layer_macs

__all__ = ["OPTIMIZE_MODES", "SUPPORTED_OPS", "GeneratedModel", "LayerInfo", "check_optimize", "check_supported",
           "generate"]


@dataclass(frozen=True)
class LayerInfo:
    index: int
    op: str
    name: str  # tensor name of the layer's first output
    macs: int
    scratch_bytes: int


@dataclass(frozen=True)
class GeneratedModel:
    dir: Path
    name: str
    arena_bytes: int  # the static plan: activations + scratch (graph input/output live with the caller)
    n_layers: int
    layers: tuple[LayerInfo, ...]
    macs: int
    input_shape: tuple[int, ...]
    input_dtype: str
    output_shape: tuple[int, ...]
    output_dtype: str
    input_bytes: int
    output_bytes: int
    weight_bytes: int  # const arrays in flash: weights, biases, requantization tables
    data_bytes: int  # bundled test inputs in flash (data.c)
    n_inputs: int  # rows in data.c
    folded_ops: tuple[str, ...]  # shape/constant ops evaluated at generation time
    optimize: str | None  # the optimized kernels' weight layouts: speed (int16) or size (int8); None: TFLM
    weight_layout: str | None  # builtin: placement.weight_layout ("int16", "int16+winograd", "int8"); None: TFLM
    weights_in: str | None  # builtin: "flash" or "ram" (copied at reset; placement.py); None: TFLM

    @property
    def model_c(self) -> Path:
        return self.dir / "model.c"

    @property
    def data_c(self) -> Path:
        return self.dir / "data.c"


def check_supported(model: TfliteModel) -> None:
    """Raise UnsupportedOpsError naming every op the builtin engine lacks (after folding)."""
    check_ops(model)


def _check_inputs(model: TfliteModel, inputs: np.ndarray | None) -> None:
    if inputs is None:
        return
    t = model.tensor(model.inputs[0])
    if len(model.inputs) != 1:
        raise DataError(f"model has {len(model.inputs)} inputs; bundled test data needs exactly one")
    if inputs.dtype != t.dtype:
        raise DataError(f"inputs are {inputs.dtype}, model input {t.name!r} is {t.dtype}")
    sample = tuple(t.shape[1:]) if len(t.shape) > 1 and t.shape[0] == 1 else tuple(t.shape)
    if inputs.ndim < 1 or tuple(inputs.shape[1:]) not in (tuple(t.shape), sample):
        raise DataError(f"inputs have shape {inputs.shape}; expected [N, {', '.join(map(str, t.shape))}]")


def generate(model: TfliteModel, out_dir: Path, inputs: np.ndarray | None, *, name: str,
             optimize: str = "speed", ram_budget: RamBudget | None = None) -> GeneratedModel:
    """Write out_dir/model.c and out_dir/data.c for `model`.

    `inputs`: [N, *input_shape] (a leading batch of 1 may be left out) in the model's input dtype,
    or None for no bundled test data. `optimize`: "speed" (conv / FC weights widened to int16
    offline) or "size" (int8 weights only); the reference kernels read the int8 weights in both.
    `ram_budget`: RAM the weights and the arena may take (speed mode, flash that waits): the weights
    are placed in RAM when they fit, with the int8 layouts if the int16 ones do not
    (harness/codegen/placement.py); else they stay in flash.
    """
    check_optimize(optimize)
    _check_inputs(model, inputs)
    program = place_program(model, optimize, ram_budget)
    out_dir = Path(out_dir)
    write_sources(out_dir, program, name, inputs)
    tin, tout = model.tensor(model.inputs[0]), model.tensor(model.outputs[0])
    layers = tuple(
        LayerInfo(i, layer.op.op, model.tensor(layer.op.outputs[0]).name, layer_macs(model, layer.op),
                  layer.scratch_bytes)
        for i, layer in enumerate(program.layers)
    )
    return GeneratedModel(
        dir=out_dir,
        name=name,
        arena_bytes=program.arena.size,
        n_layers=len(layers),
        layers=layers,
        macs=sum(layer.macs for layer in layers),
        input_shape=tuple(tin.shape),
        input_dtype=tin.dtype.name,
        output_shape=tuple(tout.shape),
        output_dtype=tout.dtype.name,
        input_bytes=sum(model.tensor(t).nbytes for t in model.inputs),
        output_bytes=sum(model.tensor(t).nbytes for t in model.outputs),
        weight_bytes=weight_bytes(program),
        data_bytes=0 if inputs is None else int(inputs.nbytes),
        n_inputs=0 if inputs is None else int(inputs.shape[0]),
        folded_ops=program.folded_ops,
        optimize=optimize,
        weights_in=program.weights_in,
        weight_layout=weight_layout(program),
    )
