"""A target only moves bytes: open, read, write, close. The protocol lives elsewhere.

`Target` is one device behind one byte stream for one run; `TargetKind` is what the pipeline asks
of a kind of target (its registry entry: `harness.plugins.TARGETS`): its count unit, whether runs
may go in parallel, what it needs from the user, and how to make a `Target` for a run.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import TinyhilError

if TYPE_CHECKING:
    from harness.boards import Board
    from harness.build.firmware import Firmware


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

    def reset(self) -> None:
        """Restart the device's firmware from its reset vector, where the target can."""
        raise TinyhilError(f"the {self.name} target cannot reset its device")

    def __enter__(self) -> Target:
        try:
            self.open()
        except BaseException:  # an open cut short (an error, Ctrl-C) must not leave an emulator running
            with contextlib.suppress(Exception):  # (the first error is the one to report)
                self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class CiRecipe:
    """How a hosted CI runner (`tinyhil ci github`) benchmarks a board on a kind of target."""

    title: str  # the bench step's name, e.g. "Benchmark on QEMU"
    setup: tuple[Mapping[str, Any], ...] = ()  # GitHub Actions steps installing what it needs beyond Debian's
    # bench with `tinyhil robot --run` per model (a calibration row, then the Robot suite under renode-test)
    # instead of one `tinyhil sweep`
    robot_suites: bool = False


class TargetKind(abc.ABC):
    """A kind of target (qemu, renode, serial, labgrid, or a plugin's): registered once by `name`.

    Its Target starts and connects in `open()`, stops in `close()` and, where it can, resets in
    `reset()`."""

    name: str
    summary: str = ""
    count_units: tuple[str, ...] = ("instructions",)  # what its counts can be: "cycles" (silicon) or emulator
    parallel: bool = True  # independent runs may use it at once (an emulator each); a board is one at a time
    external_firmware: bool = False  # may talk to a device running firmware tinyhil did not build
    needs: tuple[str, ...] = ()  # run settings (BenchConfig fields) the user provides, e.g. ("port",)
    startup_s: float = 30.0  # wall time to start and reach the ready line, on top of the run's timeout
    # How the timing model (harness/timing) estimates cycles for runs here: "instrumented" (the target
    # runs the firmware under the timing plugin: make() gets the `timed` run), "beside" (silicon's
    # measured cycles, with a separate QEMU estimate next to them) or None.
    timing: str | None = None

    def resolve(self, cfg):
        """The configuration with what this target reads from outside it (e.g. labgrid's LG_PLACE)
        filled in; called once, at the edge, before validation."""
        return cfg

    def check(self, cfg) -> None:  # noqa: B027 - an optional hook: emulators need nothing
        """Refuse a run that cannot start (no port, no place, no tool), before anything is built."""

    def columns(self) -> dict:
        """Row columns known before the target starts (e.g. the emulator's version)."""
        return {}

    def ci(self, board: Board) -> CiRecipe | None:
        """How a hosted CI runner benchmarks `board` here, or None when it cannot (no emulator models
        the board; a physical board is not on a hosted runner)."""
        return None

    @abc.abstractmethod
    def make(self, cfg, board: Board, firmware: Firmware | None, run_dir: Path) -> Target:
        """A Target for this run, not opened yet. `firmware` is None when the device runs its own."""

    def describe(self) -> str:
        needs = f"; needs {', '.join(self.needs)}" if self.needs else ""
        return (f"{self.summary} (counts {' or '.join(self.count_units)}"
                f"{'' if self.parallel else '; one run at a time'}{needs})")
