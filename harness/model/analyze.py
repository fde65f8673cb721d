"""What a user wants to know of a .tflite before building anything: layers, sizes, MACs, fit."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from harness.model.macs import layer_macs
from harness.model.tflite_file import TfliteModel


@dataclass(frozen=True)
class LayerInfo:
    index: int
    op: str
    name: str  # name of the first output tensor
    input_shapes: tuple[tuple[int, ...], ...]
    output_shape: tuple[int, ...]
    params: int  # elements of constant inputs (weights, bias)
    macs: int


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: str
    file_bytes: int
    ops: dict[str, int]  # op name -> count
    n_tensors: int
    params: int
    weight_bytes: int  # bytes of constant buffers
    activation_peak_bytes: int  # lower bound of the arena: largest live input+output set of one op
    macs: int
    input_shape: tuple[int, ...]
    input_dtype: str
    output_shape: tuple[int, ...]
    output_dtype: str
    layers: tuple[LayerInfo, ...]

    def to_dict(self) -> dict:
        return asdict(self)


def analyze(model: TfliteModel) -> ModelInfo:
    layers = []
    ops: dict[str, int] = {}
    peak = 0
    for op in model.operators:
        ins = [model.tensor(i) for i in op.inputs if i >= 0]
        outs = [model.tensor(i) for i in op.outputs]
        ops[op.op] = ops.get(op.op, 0) + 1
        live = sum(t.nbytes for t in ins + outs if not t.is_constant)
        peak = max(peak, live)
        layers.append(
            LayerInfo(
                index=op.index,
                op=op.op,
                name=outs[0].name if outs else "",
                input_shapes=tuple(t.shape for t in ins),
                output_shape=outs[0].shape if outs else (),
                params=sum(int(np.prod(t.shape, dtype=np.int64)) for t in ins if t.is_constant),
                macs=layer_macs(model, op),
            )
        )
    constants = [t for t in model.tensors if t.is_constant]
    inp, out = model.tensor(model.inputs[0]), model.tensor(model.outputs[0])
    return ModelInfo(
        name=model.name,
        path=str(model.path),
        file_bytes=model.size_bytes,
        ops=ops,
        n_tensors=len(model.tensors),
        params=sum(int(t.data.size) for t in constants),
        weight_bytes=sum(int(t.data.nbytes) for t in constants),
        activation_peak_bytes=peak,
        macs=sum(layer.macs for layer in layers),
        input_shape=inp.shape,
        input_dtype=str(inp.dtype),
        output_shape=out.shape,
        output_dtype=str(out.dtype),
        layers=tuple(layers),
    )


@dataclass(frozen=True)
class FitCheck:
    board: str
    flash_needed: int
    flash_available: int
    ram_needed: int
    ram_available: int
    model_flash: int = 0  # the model's own part of flash_needed (weights)
    model_ram: int = 0  # its activation lower bound
    harness_basis: str = ""  # what the rest is: the board's measured harness baseline, or nothing

    @property
    def fits(self) -> bool:
        return self.flash_needed <= self.flash_available and self.ram_needed <= self.ram_available

    def describe(self) -> str:
        split = ""
        if self.harness_basis:
            split = (f" (model {self.model_flash:,} B flash / {self.model_ram:,} B RAM + "
                     f"{self.harness_basis})")
        return (
            f"{self.board}: flash {self.flash_needed:,} of {self.flash_available:,} B, "
            f"RAM {self.ram_needed:,} of {self.ram_available:,} B{split}"
        )


def estimate_fit(info: ModelInfo, board_name: str, flash_bytes: int, ram_bytes: int, baseline=None,
                 model_flash: int | None = None, weights_in_ram: int = 0) -> FitCheck:
    """Pre-build estimate: the model's weights and activation lower bound, plus the board's harness
    baseline measured from a build (harness.build.baseline) when one is given. Without a baseline
    the check covers the model alone and says so; the exact figures come from the ELF after the build.
    `model_flash`: the engine's own figure for the model's constants (e.g. the builtin engine's
    weight layouts of one --optimize mode), instead of the .tflite's weight bytes. `weights_in_ram`:
    constants the engine copies to RAM at reset (builtin speed mode where flash waits)."""
    flash_extra = baseline.flash_bytes if baseline else 0
    ram_extra = baseline.ram_bytes if baseline else 0
    model_flash = info.weight_bytes if model_flash is None else model_flash
    return FitCheck(
        board=board_name,
        flash_needed=model_flash + flash_extra,
        flash_available=flash_bytes,
        ram_needed=info.activation_peak_bytes + weights_in_ram + ram_extra,
        ram_available=ram_bytes,
        model_flash=model_flash,
        model_ram=info.activation_peak_bytes + weights_in_ram,
        harness_basis=baseline.describe() if baseline else "no harness baseline: model alone",
    )
