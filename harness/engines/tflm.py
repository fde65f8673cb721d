"""TensorFlow Lite Micro: the .tflite embedded as is and run by TFLM's interpreter
(firmware/engine_tflm/), linked against a TFLM library built once per tree and CPU flags
(harness.build.tflm_lib)."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from harness.engines.base import Engine, EngineBuild
from harness.places import source_root


class TflmEngine(Engine):
    name = "tflm"
    summary = "TensorFlow Lite Micro's interpreter (needs a TFLM tree per kernel set)"
    kernel_sets = ("cmsis-nn", "reference")
    kernel_aliases = MappingProxyType({"optimized": "cmsis-nn"})  # TFLM's optimised kernels are CMSIS-NN
    firmware_engine = "tflm"
    # The library is built as TFLM's release build (TF_LITE_STRIP_ERROR_STRINGS), which compiles out
    # the interpreter's per-operator ScopedMicroProfiler (micro_interpreter_graph.cc): the adapter's
    # layer hook never sees an operator begin, so the whole inference would land in layer 0.
    resolves_layers = False

    def check_ready(self, kernels: str, settings) -> None:
        from harness.build.tflm_lib import find_tree

        # the tree named for this kernel set, or an error naming the variable
        find_tree(self.resolve_kernels(kernels), settings.tflm_environ, settings.tflm_commit)

    def supported_ops(self) -> frozenset[str]:
        from harness.codegen.tflm_model import TFLM_RESOLVER_METHODS

        return frozenset(TFLM_RESOLVER_METHODS)

    def check_supported(self, model) -> None:
        from harness.codegen.tflm_model import check_tflm_supported

        check_tflm_supported(model)

    def generate(self, model, out_dir: Path, inputs, *, name: str, arena=None, mode: str | None = None,
                 ram_budget=None):  # TFLM reads its flatbuffer in place: the weights stay in flash
        from harness.codegen.tflm_model import generate_tflm

        return generate_tflm(model, out_dir, inputs, name=name, arena=arena)

    def generated_columns(self, generated) -> dict:
        return {"tflm_persistent_bytes": generated.persistent_bytes}

    def cache_facts(self, board, kernels: str, settings) -> dict:
        # the tree for the kernel set, by content, and the flags its library is built with
        from harness.build.tflm_lib import board_cpu_flags, find_tree, library_key

        tree = find_tree(kernels, settings.tflm_environ, settings.tflm_commit)
        return {"engine": self.name,
                "tflm_tree": [str(tree.path), tree.commit, library_key(tree, board_cpu_flags(board.manifest))]}

    def _build(self, library) -> EngineBuild:
        stamp = {"tree": str(library.tree.path), "path": str(library.path), "key": library.key,
                 "build_seconds": library.build_seconds, "cpu_flags": list(library.cpu_flags)}
        # TFLM's compile units name the tree's sources: they are the engine's
        return EngineBuild(env={"TINYHIL_ENGINE": self.firmware_engine, "TINYHIL_TFLM_TREE": str(library.tree.path)},
                           source_dirs=(source_root() / "firmware" / "engine_tflm", library.tree.path),
                           columns=library.columns(), stamp=stamp)

    def prepare_build(self, board, kernels: str, model_dir: Path, settings) -> EngineBuild:
        from harness.build.tflm_lib import board_cpu_flags, ensure_library, find_tree, model_methods

        tree = find_tree(kernels, settings.tflm_environ, settings.tflm_commit)
        methods = None if settings.tflm_library == "full" else model_methods(model_dir)
        return self._build(ensure_library(tree, board_cpu_flags(board.manifest), timeout=settings.tflm_build_timeout_s,
                                          methods=methods, jobs=settings.build_jobs,
                                          root=settings.cache_dir / "tflm-lib"))

    def reuse_build(self, stamp, settings) -> EngineBuild:
        """The library a reused build linked (reused too, so `cached`)."""
        from harness.build.tflm_lib import TflmLibrary, load_tree

        if not stamp:
            return super().reuse_build(stamp, settings)
        library = TflmLibrary(load_tree(stamp["tree"], settings.tflm_commit), Path(stamp["path"]), stamp["key"],
                              stamp["build_seconds"],
                              True, tuple(stamp["cpu_flags"]))
        return self._build(library)

    def memory_columns(self, memory) -> dict:
        return {"tflm_arena_used_bytes": memory.engine_arena_used_bytes}  # TFLM's own figure, as a check
