"""Flash the builtin engine's constants take in each `--optimize` mode, without building.

The optimized build holds the weight layouts of the chosen mode (int16 copies for speed, int8 for
size), biases and requantization tables; this is their sum (`GeneratedModel.weight_bytes` of that
mode). Kernel code and the model's own code come on top and are only known from the ELF.
"""

from __future__ import annotations

from harness.codegen.context import OPTIMIZE_MODES
from harness.codegen.program import build_program
from harness.model import TfliteModel


def constant_bytes(model: TfliteModel, optimize: str) -> int:
    """Bytes of the flash arrays an optimized-kernel build of `model` holds in mode `optimize`."""
    return sum(c.nbytes for c in build_program(model, optimize).consts if c.kernels != "reference")


def constant_bytes_by_mode(model: TfliteModel) -> dict[str, int]:
    return {mode: constant_bytes(model, mode) for mode in OPTIMIZE_MODES}
