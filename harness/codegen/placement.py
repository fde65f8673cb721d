"""Where the builtin engine's weights live: flash (read in place) or RAM (copied there at reset).

On a board whose flash has wait states, every weight read that misses the flash accelerator's
small data cache waits (nucleo_l4r5zi: 5 cycles per 8-byte read, RM0432 §3.3.3-3.3.5); SRAM
answers at core speed. `--optimize speed` therefore places the weights in RAM when the board's
flash has wait states and the weights, the arena and the harness's own RAM fit the board's RAM;
the startup code copies them there (`.data`), the row says `weights_in = ram` and counts them in
`ram_weights_bytes` and `deploy_ram_bytes`. `--optimize size` and zero-wait flash keep them in
flash. The choice is made once, from the named board, so the emulated build that times a board
QEMU does not model holds the same placement.
"""

from __future__ import annotations

from dataclasses import dataclass

WEIGHT_PLACES = ("flash", "ram")
# Room kept for what the measured harness baseline does not hold: the engine's own statics and the
# alignment between sections (a few hundred bytes on every MLPerf model).
ENGINE_STATICS_MARGIN = 2048


@dataclass(frozen=True)
class RamBudget:
    """RAM the model may take on the board: weights copied to RAM + the arena."""

    bytes: int
    why: str  # the figures it came from, for the log


def ram_budget(optimize: str, board, harness_ram_bytes: int | None) -> RamBudget | None:
    """The budget for weights in RAM, or None when they stay in flash (size mode, zero-wait flash,
    a board file without a timing section, or no measured harness baseline to subtract)."""
    from harness.errors import TinyhilError
    from harness.timing.memory import load_memory_timing

    if optimize != "speed" or board is None or harness_ram_bytes is None:
        return None
    try:
        wait_states = load_memory_timing(board).flash_wait_states
    except TinyhilError:
        return None
    if wait_states <= 0:
        return None
    free = board.ram_bytes - harness_ram_bytes - ENGINE_STATICS_MARGIN
    return RamBudget(free, f"{board.ram_bytes:,} B of RAM less the harness's {harness_ram_bytes:,} B; "
                           f"flash has {wait_states} wait states")


def choose_place(weight_bytes: int, arena_bytes: int, budget: RamBudget | None) -> str:
    if budget is not None and weight_bytes + arena_bytes <= budget.bytes:
        return "ram"
    return "flash"
