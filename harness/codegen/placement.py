"""Where the builtin engine's weights live: flash (read in place) or RAM (copied there at reset).

On a board whose flash has wait states, every weight read that misses the flash accelerator's
small data cache waits (nucleo_l4r5zi: 5 cycles per 8-byte read, RM0432 §3.3.3-3.3.5); SRAM
answers at core speed. `--optimize speed` therefore places the weights in RAM when the board's
flash has wait states and the weights, the arena and the harness's own RAM fit the board's RAM
(the int16 layouts with the Winograd ones, else without them, else the int8 ones:
`place_program`); the startup code copies them there (`.data`), the row says `weights_in = ram`
(and `weight_layout`) and counts them in `ram_weights_bytes` and `deploy_ram_bytes`.
`--optimize size` and zero-wait flash keep them in flash. The choice is made once, from the named
board, so the emulated build that times a board QEMU does not model holds the same placement.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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


def weight_bytes(program) -> int:
    """Constant bytes of the optimized build (reference-only layouts left out)."""
    return sum(c.nbytes for c in program.consts if c.kernels != "reference")


def weight_layout(program) -> str:
    """The optimized kernels' weights as the program lays them out: "int16" (speed), "int16+winograd"
    (speed with conv_winograd.c's layout for its 3x3 stride-1 convolutions) or "int8" (size)."""
    if program.optimize != "speed":
        return "int8"
    return "int16+winograd" if any(layer.weights == "wino" for layer in program.layers) else "int16"


def place_program(model, optimize: str, budget: RamBudget | None):
    """The program to emit with its weights' place. With a budget (speed mode, flash that waits): the
    int16 layouts in RAM when they fit; else the int8 layouts, in RAM when they fit, else in flash,
    because int16 copies read from waiting flash cost more cycles than int8 ones (timing model
    cm4-trm 1 on nucleo_l4r5zi, weights in flash, est. cycles/MAC int16 / int8: IC 2.38 / 2.13,
    KWS 2.88 / 2.67, VWW 3.23 / 3.13)."""
    from harness.codegen.program import build_program

    program = build_program(model, optimize)
    if budget is None:
        return replace(program, weights_in="flash")
    if weight_bytes(program) + program.arena.size <= budget.bytes:
        return replace(program, weights_in="ram")
    if optimize != "size":
        plain = build_program(model, optimize, winograd=False)  # the 3x3 layers' layout without Winograd
        if weight_bytes(plain) + plain.arena.size <= budget.bytes:
            return replace(plain, weights_in="ram")
        program = build_program(model, "size")
    fits = weight_bytes(program) + program.arena.size <= budget.bytes
    return replace(program, weights_in="ram" if fits else "flash")
