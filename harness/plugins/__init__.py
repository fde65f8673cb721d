"""The extension points and their registries: ENGINES, TARGETS, TIMING_MODELS.

Each is a `Registry` of one typed interface — `harness.engines.Engine`,
`harness.targets.TargetKind`, `harness.plugins.timing.TimingModel` — filled with tinyhil's own on
first use and then with other packages' entry points (`tinyhil.engines`, `tinyhil.targets`,
`tinyhil.timing_models`). The pipeline looks implementations up here by name and asks them what it
needs; it never compares names itself.
"""

from __future__ import annotations

from harness.engines.base import Engine
from harness.plugins.registry import (
    DuplicateNameError,
    Entry,
    Origin,
    PluginLoadWarning,
    Registry,
    UnknownNameError,
)
from harness.plugins.timing import TimingModel
from harness.targets.base import TargetKind


def _builtin_engines(registry: Registry) -> None:
    from harness.engines.builtin import BuiltinEngine
    from harness.engines.external import ExternalEngine
    from harness.engines.tflm import TflmEngine

    for engine in (BuiltinEngine(), TflmEngine(), ExternalEngine()):
        registry.register(engine)


def _builtin_targets(registry: Registry) -> None:
    from harness.targets.kinds import LabgridKind, QemuKind, RenodeKind, SerialKind

    for kind in (QemuKind(), SerialKind(), RenodeKind(), LabgridKind()):
        registry.register(kind)


def _builtin_timing_models(registry: Registry) -> None:
    from harness.timing.session import QemuCortexM4Model  # the QEMU-plugin trace + the board's memory timing

    registry.register(QemuCortexM4Model())


ENGINES: Registry[Engine] = Registry("engine", "tinyhil.engines", Engine, _builtin_engines)
TARGETS: Registry[TargetKind] = Registry("target", "tinyhil.targets", TargetKind, _builtin_targets)
TIMING_MODELS: Registry[TimingModel] = Registry("timing model", "tinyhil.timing_models", TimingModel,
                                                _builtin_timing_models)
REGISTRIES = (ENGINES, TARGETS, TIMING_MODELS)

__all__ = ["ENGINES", "REGISTRIES", "TARGETS", "TIMING_MODELS", "DuplicateNameError", "Engine", "Entry", "Origin",
           "PluginLoadWarning", "Registry", "TargetKind", "TimingModel", "UnknownNameError"]
