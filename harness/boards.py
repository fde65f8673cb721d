"""Boards, read from boards/*.json: a PlatformIO board manifest plus a `tinyhil` section.

Adding a board is adding a file; nothing here names a board.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harness.errors import UnknownBoardError

PROJECT_DIR = Path(__file__).resolve().parents[1]
BOARDS_DIR = PROJECT_DIR / "boards"


@dataclass(frozen=True)
class Uart:
    name: str
    base: int
    baud: int


@dataclass(frozen=True)
class Board:
    name: str  # the PlatformIO env and board id, e.g. "mps2_an386"
    title: str
    cpu: str
    clock_hz: int
    flash_bytes: int
    ram_bytes: int
    uart: Uart
    qemu_machine: str | None  # None: QEMU does not model this board
    qemu_systick_hz: int | None  # SysTick (core) clock QEMU emulates; ticks -> instructions
    renode_platform: str | None  # a Renode .repl path, relative to Renode's own platforms
    renode_uart: str | None  # the Renode peripheral that is the board's UART, e.g. sysbus.usart1
    physical: bool  # a real board exists that can be flashed and read over a serial port
    manifest: Path


def _parse(path: Path) -> Board:
    try:
        data = json.loads(path.read_text())
        th = data["tinyhil"]
        uart = th["uart"]
        return Board(
            name=path.stem,
            title=data.get("name", path.stem),
            cpu=th["cpu"],
            clock_hz=int(th["clock_hz"]),
            flash_bytes=int(th["flash_bytes"]),
            ram_bytes=int(th["ram_bytes"]),
            uart=Uart(name=uart["name"], base=int(str(uart["base"]), 0), baud=int(uart["baud"])),
            qemu_machine=th.get("qemu_machine"),
            qemu_systick_hz=int(th["qemu_systick_hz"]) if th.get("qemu_systick_hz") else None,
            renode_platform=th.get("renode_platform"),
            renode_uart=th.get("renode_uart"),
            physical=bool(th.get("physical", False)),
            manifest=path,
        )
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UnknownBoardError(f"board file {path} is not a valid tinyhil board manifest: {e!r}") from e


def list_boards(boards_dir: Path = BOARDS_DIR) -> list[str]:
    """Names of the boards with a manifest, sorted."""
    return sorted(p.stem for p in Path(boards_dir).glob("*.json"))


def load_board(name: str, boards_dir: Path = BOARDS_DIR) -> Board:
    path = Path(boards_dir) / f"{name}.json"
    if not path.is_file():
        known = ", ".join(list_boards(boards_dir)) or "none"
        raise UnknownBoardError(f"unknown board {name!r}; known boards: {known}")
    return _parse(path)
