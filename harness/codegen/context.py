"""What a lowering function sees: tensors, known values, pointers, constants and scratch.

Pointers are placeholders (`__T<index>__`, `__S__`) until the arena is planned; `emit` swaps in
the final addresses. Constants become `static const` arrays in flash.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from harness.errors import TinyhilError, UnsupportedOpsError
from harness.model import Operator, Tensor, TfliteModel

C_TYPES = {
    np.dtype(np.int8): "int8_t",
    np.dtype(np.uint8): "uint8_t",
    np.dtype(np.int16): "int16_t",
    np.dtype(np.int32): "int32_t",
    np.dtype(np.float32): "float",
}


@dataclass
class ConstArray:
    name: str
    ctype: str
    values: np.ndarray  # flat
    # Kernel set that reads it: None (both), "reference" or "optimized" (a layout only that kernel
    # reads); model.c compiles it under TH_KERNELS_REFERENCE accordingly.
    kernels: str | None = None

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes)


@dataclass
class LayerCode:
    op: Operator
    code: str  # C statements, placeholders unresolved
    scratch_bytes: int = 0
    # input tensor -> lowest allowed (output start - input start) in bytes if the input dies here
    overlap: dict[int, int] = field(default_factory=dict)
    # the optimized kernel's weight layout, as its th_conv_params field: "packed" (int16), "packed8"
    # (int8) or "wino" (conv_winograd.c); None: it reads the int8 filter
    weights: str | None = None


# What the optimized kernels' weight layouts trade for (`--optimize`): "speed" widens conv and FC
# weights to int16 offline (fewer instructions, twice the weight bytes); "size" keeps every weight
# int8 (no widened copy: the smallest flash, a few more instructions per MAC).
OPTIMIZE_MODES = ("speed", "size")


def check_optimize(optimize: str) -> None:
    """Raise a TinyhilError naming the choices when `optimize` is no mode."""
    if optimize not in OPTIMIZE_MODES:
        raise TinyhilError(f"unknown --optimize {optimize!r}; choose one of {', '.join(OPTIMIZE_MODES)}")


@dataclass
class LowerContext:
    model: TfliteModel
    values: dict[int, np.ndarray]
    optimize: str = "speed"
    winograd: bool = True  # speed mode: 3x3 stride-1 layers take conv_winograd.c's larger layout
    layer: int = 0
    consts: list[ConstArray] = field(default_factory=list)
    _const_of_tensor: dict[int, str] = field(default_factory=dict)

    def tensor(self, index: int) -> Tensor:
        return self.model.tensor(index)

    def value(self, index: int) -> np.ndarray | None:
        return self.values.get(index)

    def const(self, values: np.ndarray, dtype, hint: str, kernels: str | None = None) -> str:
        """Register a flash array (for both kernel sets, or only `kernels`); returns its C name."""
        arr = np.ascontiguousarray(np.asarray(values).astype(dtype).ravel())
        name = f"k{self.layer}_{hint}"
        self.consts.append(ConstArray(name, C_TYPES[np.dtype(dtype)], arr, kernels))
        return name

    def ptr(self, index: int) -> str:
        """C expression (untyped bytes) of a tensor's data: a constant array or a placeholder."""
        if index in self.values:
            if index not in self._const_of_tensor:
                t = self.tensor(index)
                self._const_of_tensor[index] = self.const(self.values[index], t.dtype, f"t{index}")
            return f"(const void *){self._const_of_tensor[index]}"
        return f"__T{index}__"

    def refuse(self, op: Operator, why: str) -> UnsupportedOpsError:
        return UnsupportedOpsError([f"{op.op} ({why})"])


def quant_of(t: Tensor) -> tuple[float, int]:
    """Per-tensor (scale, zero point) of an activation."""
    if t.quant is None:
        return 1.0, 0
    return float(t.quant.scale[0]), int(t.quant.zero_point[0])


def c_init(fields: dict) -> str:
    """A designated initializer body: `.a = 1, .b = x`."""
    return ", ".join(f".{k} = {v}" for k, v in fields.items())


def by_kernels(reference: str, optimized: str) -> str:
    """C text that differs between the two kernel sets (model.c is built for one of them)."""
    return f"#ifdef TH_KERNELS_REFERENCE\n{reference}\n#else\n{optimized}\n#endif"


def int_list(values) -> str:
    return "{" + ", ".join(str(int(v)) for v in values) + "}"
