"""tinyhil's builtin int8 engine: the model compiled ahead of time into C (harness.codegen), the
kernels in C (firmware/engine/)."""

from __future__ import annotations

from pathlib import Path

from harness.engines.base import Engine, EngineBuild
from harness.places import source_root


class BuiltinEngine(Engine):
    name = "builtin"
    summary = "tinyhil's int8 engine: the model compiled ahead of time into C"
    places_weights = True  # --optimize speed copies the weights to RAM where flash waits (codegen/placement.py)
    kernel_sets = ("optimized", "reference")
    modes = ("speed", "size")  # weight layouts: conv / FC weights widened to int16 offline, or int8 only
    firmware_engine = "builtin"
    persistent_arena_bytes = 0  # no runtime state: everything is planned offline into th_arena

    def supported_ops(self) -> frozenset[str]:
        from harness.codegen import SUPPORTED_OPS

        return SUPPORTED_OPS

    def check_supported(self, model) -> None:
        from harness.codegen import check_supported

        check_supported(model)  # after folding shape ops, which the plain op list does not know

    def check_mode(self, mode: str) -> None:
        from harness.codegen.context import check_optimize

        check_optimize(mode)

    def generate(self, model, out_dir: Path, inputs, *, name: str, arena=None, mode: str | None = None,
                 ram_budget=None):
        from harness.codegen import generate

        return generate(model, out_dir, inputs, name=name, optimize=mode or self.modes[0], ram_budget=ram_budget)

    def generated_columns(self, generated) -> dict:
        return {"weights_in": generated.weights_in, "weight_layout": generated.weight_layout}

    def _build(self) -> EngineBuild:
        return EngineBuild(env={"TINYHIL_ENGINE": self.firmware_engine},
                           source_dirs=(source_root() / "firmware" / "engine",))  # (its staged copy too: memory_split)

    def prepare_build(self, board, kernels, model_dir, settings) -> EngineBuild:
        return self._build()

    def reuse_build(self, stamp, settings) -> EngineBuild:
        return self._build()
