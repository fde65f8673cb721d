"""A target only moves bytes: open, read, write, close. The protocol lives elsewhere."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CountScale:
    """How the firmware's timer ticks become a latency figure with a unit."""

    unit: str  # "cycles" (real core) or "instructions" (emulator under icount)
    per_tick: float  # units per timer tick
    resolution: float  # smallest step a count can take, in `unit`

    def convert(self, ticks: int) -> float:
        return ticks * self.per_tick


class Target(abc.ABC):
    """One device behind one byte stream. Use as a context manager."""

    name: str = "target"
    log_path: Path | None = None  # where the emulator/device log goes, quoted in errors

    @abc.abstractmethod
    def open(self) -> None:
        """Start or connect to the device; after this, read/write work."""

    @abc.abstractmethod
    def read(self, max_bytes: int, timeout: float) -> bytes:
        """Up to max_bytes, waiting at most timeout seconds; b"" if nothing came."""

    @abc.abstractmethod
    def write(self, data: bytes) -> None: ...

    @abc.abstractmethod
    def close(self) -> None:
        """Release everything; safe to call twice."""

    @abc.abstractmethod
    def count_scale(self, timer: str, timer_hz: int) -> CountScale:
        """The unit of the counts a firmware reporting this timer produces here."""

    def provenance(self) -> dict:
        """Row columns naming what ran the firmware (e.g. the emulator's version)."""
        return {}

    def __enter__(self) -> Target:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
