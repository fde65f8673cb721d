"""A board's memory system and run-mode current, from the `timing` section of its board file.

Every figure there cites its document (`memory_source`, `current_source`); this module only reads
and checks them. The section lives in the board file so adding a board stays adding a file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from harness.boards import Board
from harness.errors import UnknownBoardError


@dataclass(frozen=True)
class MemoryTiming:
    flash_wait_states: int  # extra cycles of a flash read that misses every cache/buffer
    flash_line_bytes: int  # bytes one flash read delivers: the unit a miss waits for
    icache_lines: int  # instruction cache entries of flash_line_bytes (0: none)
    dcache_lines: int  # data cache entries (literal/constant reads from flash)
    unified_cache: bool  # one cache for both (Kinetis FMC)
    prefetch: bool  # the next sequential line is read while the current one executes
    memory_source: str
    sram: str
    run_current_ma: float | None  # datasheet run-mode current at the board's clock
    supply_v: float | None
    current_source: str
    emulated_on: str | None  # the QEMU-modelled board with the same core that runs it (None: itself)


def load_memory_timing(board: Board) -> MemoryTiming:
    try:
        section = json.loads(board.manifest.read_text())["tinyhil"]["timing"]
        timing = MemoryTiming(
            flash_wait_states=int(section["flash_wait_states"]), flash_line_bytes=int(section["flash_line_bytes"]),
            icache_lines=int(section["icache_lines"]), dcache_lines=int(section["dcache_lines"]),
            unified_cache=bool(section["unified_cache"]), prefetch=bool(section["prefetch"]),
            memory_source=str(section["memory_source"]), sram=str(section["sram"]),
            run_current_ma=None if section.get("run_current_ma") is None else float(section["run_current_ma"]),
            supply_v=None if section.get("supply_v") is None else float(section["supply_v"]),
            current_source=str(section.get("current_source", "")), emulated_on=section.get("emulated_on"))
    except KeyError as e:
        raise UnknownBoardError(f"board {board.name!r} has no timing section ({e} missing in "
                                f"{board.manifest}): the timing model cannot estimate it") from e
    except (OSError, ValueError, TypeError) as e:
        raise UnknownBoardError(f"board file {board.manifest}: bad timing section: {e}") from e
    line = timing.flash_line_bytes
    if line < 4 or line & (line - 1) or not 0 <= timing.icache_lines <= 256 or not 0 <= timing.dcache_lines <= 256:
        raise UnknownBoardError(f"board file {board.manifest}: timing needs a power-of-two flash_line_bytes >= 4 "
                                "and 0-256 cache lines")
    return timing
