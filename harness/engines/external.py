"""A device's own firmware (e.g. the MLPerf Tiny reference firmware), spoken to over the MLPerf
protocol: tinyhil builds and flashes nothing, and states no sizes for it."""

from __future__ import annotations

from harness.engines.base import Engine
from harness.errors import TinyhilError


class ExternalEngine(Engine):
    name = "external"
    summary = "the device's own firmware (--external-firmware): nothing built or flashed"
    firmware_engine = None

    def supported_ops(self) -> frozenset[str]:
        return frozenset()

    def check_supported(self, model) -> None:
        """Whatever the device runs is its own business: nothing to check."""

    def generate(self, model, out_dir, inputs, *, name, arena=None, mode=None, ram_budget=None):
        raise TinyhilError("the external engine generates nothing: the device runs its own firmware")
