"""What the pipeline asks of an engine (the code that runs the model on the device).

An engine names its kernel sets (and modes), says which ops it runs, turns a .tflite into the
sources of a generated model directory, says how its own sources enter the PlatformIO build and
the build's cache key, and which source folders are its own for the memory split. Builtin ones:
`harness.engines.builtin` (tinyhil's int8 engine), `.tflm` (TensorFlow Lite Micro) and
`.external` (a device's own firmware: nothing built). Others come from entry points
(`tinyhil.engines`, see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from harness.errors import TinyhilError

if TYPE_CHECKING:
    import numpy as np

    from harness.boards import Board
    from harness.codegen import GeneratedModel
    from harness.model import TfliteModel
    from harness.protocol.messages import MemoryReport
    from harness.reference.tflm import TflmArena
    from harness.settings import Settings


@dataclass(frozen=True)
class EngineBuild:
    """What an engine adds to one firmware build: PlatformIO environment variables (how its sources
    enter the build), its own source folders (the memory split counts their compile units as the
    engine's), row columns, and JSON facts (`stamp`) to recreate this record when the build is reused."""

    env: Mapping[str, str] = field(default_factory=dict)
    source_dirs: tuple[Path, ...] = ()
    columns: Mapping[str, Any] = field(default_factory=dict)
    stamp: Mapping[str, Any] | None = None


class Engine(abc.ABC):
    """One engine. Instances are stateless and shared: register one per name."""

    name: str
    summary: str = ""
    kernel_sets: tuple[str, ...] = ()  # its own kernel set names; the first is the default
    places_weights: bool = False  # generate() takes a ram_budget and may put its weights in RAM
    # Whether its firmware's layer hook sees each layer begin: False when the build cannot (the row
    # then carries no per-layer counts rather than a profile with the whole inference in one layer).
    resolves_layers: bool = True
    kernel_aliases: Mapping[str, str] = MappingProxyType({})  # a common name -> its own (optimized -> cmsis-nn)
    modes: tuple[str, ...] = ()  # the modes it can be built in (builtin: speed | size); the first is the default
    # What firmware/ compiles in (TINYHIL_ENGINE) and the firmware reports in IDENTIFY; None: the
    # engine builds nothing (the device runs its own firmware).
    firmware_engine: str | None = None
    # Its persistent (runtime state) arena use when known without measuring (the builtin engine: 0).
    persistent_arena_bytes: int | None = None

    @property
    def builds_firmware(self) -> bool:
        return self.firmware_engine is not None

    def resolve_kernels(self, kernels: str) -> str:
        """The kernel set as this engine names it; anything it does not have is a TinyhilError."""
        kernels = self.kernel_aliases.get(kernels, kernels)
        if self.kernel_sets and kernels not in self.kernel_sets:
            raise TinyhilError(f"unknown kernels {kernels!r} for the {self.name} engine; choose one of "
                               f"{', '.join(self.kernel_sets)}")
        return kernels

    def check_mode(self, mode: str) -> None:
        """Raise a TinyhilError naming the choices when the engine has modes and `mode` is none of them."""
        if self.modes and mode not in self.modes:
            raise TinyhilError(f"unknown --optimize {mode!r}; choose one of {', '.join(self.modes)}")

    def check_ready(self, kernels: str, settings: Settings) -> None:  # noqa: B027 - an optional hook
        """Raise (ToolMissingError...) when what this kernel set needs is not on this machine (most
        engines need nothing; `settings` name what the user pointed tinyhil at, e.g. TFLM trees)."""

    @abc.abstractmethod
    def supported_ops(self) -> frozenset[str]:
        """The .tflite builtin op names it runs."""

    def check_supported(self, model: TfliteModel) -> None:
        """Raise UnsupportedOpsError naming every op of `model` it cannot run."""
        from harness.errors import UnsupportedOpsError

        missing = [op for op in model.op_names if op not in self.supported_ops()]
        if missing:
            raise UnsupportedOpsError(missing)

    @abc.abstractmethod
    def generate(self, model: TfliteModel, out_dir: Path, inputs: np.ndarray, *, name: str,
                 arena: TflmArena | None, mode: str | None = None, ram_budget=None) -> GeneratedModel:
        """Write the generated model directory (model.c, data.c: the firmware contract).
        `ram_budget` (codegen.placement.RamBudget or None): RAM the engine may fill with its weights
        and arena on the named board, for an engine that can place its weights in RAM."""

    def generated_columns(self, generated: GeneratedModel) -> dict:
        """Row columns the generated model knows (before anything is built)."""
        return {}

    def cache_facts(self, board: Board, kernels: str, settings: Settings) -> dict:
        """What of this engine goes into the build's cache key (beside the sources and the board)."""
        return {"engine": self.name}

    def prepare_build(self, board: Board, kernels: str, model_dir: Path, settings: Settings) -> EngineBuild:
        """Make what the firmware build needs first (e.g. a prebuilt library) and say how it enters."""
        return EngineBuild(env={"TINYHIL_ENGINE": self.firmware_engine or ""})

    def reuse_build(self, stamp: Mapping[str, Any] | None, settings: Settings) -> EngineBuild:
        """The EngineBuild of a cached build, from the `stamp` its prepare_build returned."""
        return EngineBuild(env={"TINYHIL_ENGINE": self.firmware_engine or ""})

    def memory_columns(self, memory: MemoryReport) -> dict:
        """Row columns from the device's memory report beyond the common ones."""
        return {}

    def describe(self) -> str:
        kernels = f"kernels {', '.join(self.kernel_sets)}" if self.kernel_sets else "no kernels of its own"
        return f"{self.summary} ({kernels})" if self.summary else kernels
