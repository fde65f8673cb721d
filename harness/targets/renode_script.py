"""The Renode monitor commands that set up a board: its project-owned platform, the timing
configuration that makes SysTick ticks instructions, the firmware, and the UART on a socket.

Renode's virtual time follows the instructions executed: a core runs `PerformanceInMips` million
instructions per virtual second (BaseCPU), and the NVIC's SysTick counts `Frequency` ticks per
virtual second whatever CLKSOURCE says. With both set from the board's clock (MIPS = clock / 1e6,
SysTick at clock Hz) one SysTick tick is one executed instruction; `instructions_per_tick` is that
ratio for any setting. Renode models no DWT cycle counter on these platforms (CYCCNT reads 0), so
the firmware falls back to SysTick and its figures are instructions, never cycles.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from harness.boards import Board
from harness.errors import TinyhilError
from harness.settings import Settings

UART_TERMINAL = "tinyhil_uart"


def check_board(board: Board) -> None:
    if not board.renode_platform or not board.renode_uart:
        raise TinyhilError(f"Renode does not model board {board.name!r} (no renode platform/uart in its file)")


@dataclass(frozen=True)
class RenodeTiming:
    """How fast the emulated core runs in virtual time, and how fast SysTick counts."""

    mips: int  # PerformanceInMips: million instructions per virtual second
    systick_hz: int  # NVIC Frequency: SysTick ticks per virtual second

    @classmethod
    def for_board(cls, board: Board) -> RenodeTiming:
        if board.clock_hz % 1_000_000:
            raise TinyhilError(
                f"{board.name}: clock {board.clock_hz} Hz is not a whole number of MHz, "
                "which Renode's PerformanceInMips needs for one tick = one instruction"
            )
        return cls(mips=board.clock_hz // 1_000_000, systick_hz=board.clock_hz)

    @property
    def instructions_per_tick(self) -> float:
        return self.mips * 1e6 / self.systick_hz

    def virtual_seconds(self, instructions: float) -> float:
        return instructions / (self.mips * 1e6)


def setup_commands(board: Board, elf: Path) -> list[str]:
    """Create the machine, load the board's own .repl (offline: no ApplySVD), set the timing, load the ELF."""
    check_board(board)
    timing = RenodeTiming.for_board(board)
    return [
        f'mach create "{board.name}"',
        f"machine LoadPlatformDescription @{board.renode_platform}",
        f"sysbus.cpu PerformanceInMips {timing.mips}",
        f"sysbus.nvic Frequency {timing.systick_hz}",
        f"sysbus LoadELF @{Path(elf).resolve()}",
    ]


def uart_socket_commands(board: Board, port: int) -> list[str]:
    """The board's UART on a raw (non-telnet) TCP server socket at 127.0.0.1:port."""
    check_board(board)
    return [
        f'emulation CreateServerSocketTerminal {port} "{UART_TERMINAL}" false',
        f"connector Connect {board.renode_uart} {UART_TERMINAL}",
    ]


def renode_script(board: Board, elf: Path, port: int) -> str:
    """A .resc with everything but `start`: the target starts the machine once its socket is connected,
    so not a byte of the boot output is sent to nobody."""
    return "\n".join([*setup_commands(board, elf), *uart_socket_commands(board, port), ""])


def _executable(path: Path) -> str | None:
    return str(path) if path.is_file() and os.access(path, os.X_OK) else None


def renode_binary(settings: Settings | None = None) -> str | None:
    """The Renode launcher: the settings' (TINYHIL_RENODE), else `renode` on PATH."""
    configured = settings.renode if settings else None
    return _executable(Path(configured)) if configured else shutil.which("renode")


def renode_test_binary(settings: Settings | None = None) -> str | None:
    """`renode-test`: the settings' (TINYHIL_RENODE_TEST), else beside TINYHIL_RENODE, else on PATH."""
    if settings and settings.renode_test:
        return _executable(Path(settings.renode_test))
    if settings and settings.renode:
        return _executable(Path(settings.renode).with_name("renode-test"))
    return shutil.which("renode-test")
