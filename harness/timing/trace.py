"""Running QEMU with the timing plugin, and reading what it wrote.

The plugin writes one line per snapshot of its event counters: `S` where a timed window opens (the
engine's invoke entry), `M` at each timer read inside it (the firmware's `th_timer_now`), `C` where
it closes, `E` at exit. Counters only grow; a figure is the difference of two snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from harness.errors import TinyhilError

TRACE_MAGIC = "# tinyhil-timing 1 counters"


@dataclass(frozen=True)
class PluginArgs:
    """What the plugin is told: the marker addresses and the memory system to count events for."""

    out: Path
    start: tuple[int, ...]
    mark: tuple[int, ...] = ()
    close: tuple[int, ...] = ()
    flash: tuple[int, int] | None = None  # [lo, hi) of the emulated machine's flash
    line_bytes: int = 16
    icache_lines: int = 0
    dcache_lines: int = 0
    unified: bool = False
    wait_states: int = 0  # flash wait states: the plugin times instruction fetches with them
    prefetch: bool = False
    profile: Path | None = None  # per-block core cycles and executions, written at exit (kernel profiling)

    def option(self, plugin: Path) -> str:
        """The value of QEMU's `-plugin` option."""
        def addrs(values: tuple[int, ...]) -> str:
            return ":".join(hex(v) for v in values)

        parts = [str(plugin), f"out={self.out}", f"start={addrs(self.start)}", f"line={self.line_bytes}",
                 f"icache={self.icache_lines}", f"dcache={self.dcache_lines}", f"unified={int(self.unified)}",
                 f"ws={self.wait_states}", f"prefetch={int(self.prefetch)}"]
        if self.mark:
            parts.append(f"mark={addrs(self.mark)}")
        if self.close:
            parts.append(f"close={addrs(self.close)}")
        if self.flash:
            parts.append(f"flash={hex(self.flash[0])}:{hex(self.flash[1])}")
        if self.profile:
            parts.append(f"profile={self.profile}")
        if any("," in p for p in parts):
            raise TinyhilError(f"a path given to the QEMU timing plugin may not contain a comma: {self.out}")
        return ",".join(parts)


@dataclass(frozen=True)
class Snapshot:
    kind: str
    counts: dict[str, int]

    def __sub__(self, other: Snapshot) -> dict[str, int]:
        return {k: v - other.counts[k] for k, v in self.counts.items()}


@dataclass
class Window:
    """One timed window: its opening, the timer reads inside it, and where it closed (if it did)."""

    start: Snapshot
    marks: list[Snapshot] = field(default_factory=list)
    end: Snapshot | None = None


def read_trace(path: Path) -> list[Snapshot]:
    lines = Path(path).read_text().splitlines()
    if not lines or not lines[0].startswith(TRACE_MAGIC):
        raise TinyhilError(f"{path} is not a tinyhil timing trace (first line {lines[:1]!r})")
    names = lines[0][len(TRACE_MAGIC):].split()
    snapshots = []
    for line in lines[1:]:
        parts = line.split()
        if len(parts) != len(names) + 1:  # a line cut short by a kill: the last one only
            continue
        snapshots.append(Snapshot(parts[0], dict(zip(names, map(int, parts[1:]), strict=True))))
    return snapshots


def windows(snapshots: list[Snapshot]) -> list[Window]:
    out: list[Window] = []
    for snap in snapshots:
        if snap.kind == "S":
            if out and out[-1].end is None:  # a new window opened without a close: the last one ends here
                out[-1].end = snap
            out.append(Window(snap))
        elif snap.kind == "M" and out and out[-1].end is None:
            out[-1].marks.append(snap)
        elif snap.kind in "CE" and out and out[-1].end is None:
            out[-1].end = snap
    return out


def symbol_addresses(elf: Path, names: tuple[str, ...]) -> dict[str, int]:
    """The addresses of the named functions (Thumb bit cleared); an absent name is left out."""
    found: dict[str, int] = {}
    with open(elf, "rb") as f:
        for section in ELFFile(f).iter_sections():
            if isinstance(section, SymbolTableSection):
                for name in names:
                    for sym in section.get_symbol_by_name(name) or ():
                        found[name] = sym["st_value"] & ~1
    return found
