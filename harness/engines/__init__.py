"""Engines: what runs the model on the device. `Engine` is the interface; the registry is
`harness.plugins.ENGINES`."""

from harness.engines.base import Engine, EngineBuild

__all__ = ["Engine", "EngineBuild"]
