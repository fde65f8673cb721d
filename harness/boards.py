"""Boards, read from boards/*.json: a PlatformIO board manifest plus a `tinyhil` section.

A board is one file. PlatformIO's own fields say what PlatformIO itself uses (`build.cpu`, `fpu`,
`build.hwids` — the USB ids of the board's debug probe, `upload.protocol`, `debug.*`); the
`tinyhil` section holds every other fact once: the SoC driver family, the core clock, flash and RAM
(origin and size), the UART, the cycle counter and which emulators model the board. The build
(harness/build/boardgen.py, run inside PlatformIO) turns them into the firmware's defines and
linker MEMORY. Nothing here names a board.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harness.errors import UnknownBoardError

PROJECT_DIR = Path(__file__).resolve().parents[1]
BOARDS_DIR = PROJECT_DIR / "boards"
SOCS = ("cmsdk", "stm32f4", "stm32l4", "nrf52", "kinetis_k")  # firmware/src/soc_<name>.c
CYCLE_COUNTERS = ("dwt", "systick")  # "systick": never try DWT CYCCNT


@dataclass(frozen=True)
class Region:
    origin: int
    size: int


@dataclass(frozen=True)
class Uart:
    name: str  # the peripheral, e.g. "USART2", "UARTE0", "LPUART1"
    base: int
    baud: int
    tx: str | None = None  # pin names as the SoC's manual spells them: PA2, P0.06, PTB17
    rx: str | None = None
    af: int | None = None  # alternate function / pin mux number, where the SoC has one
    vcp: bool = False  # the UART reaches the host on the debug probe's USB (build.hwids)


@dataclass(frozen=True)
class Board:
    name: str  # the board id (file stem), e.g. "mps2_an386"
    title: str
    cpu: str
    soc: str
    clock_hz: int
    flash: Region
    ram: Region
    uart: Uart
    cycle_counter: str
    qemu_machine: str | None  # None: QEMU does not model this board
    qemu_systick_hz: int | None  # SysTick (core) clock QEMU emulates; ticks -> instructions
    renode_platform: str | None  # a Renode .repl: absolute path of the project's own, or Renode's
    renode_uart: str | None  # the Renode peripheral that is the board's UART, e.g. sysbus.usart2
    upload_protocol: str | None  # PlatformIO's upload.protocol; None: emulator only
    usb_ids: tuple[tuple[int, int], ...]  # (VID, PID) of the board's USB probe (build.hwids)
    rx_max: int  # largest command frame the firmware accepts (bytes)
    clock: dict  # SoC-specific clock inputs, e.g. {"source": "hse", "hse_hz": 8000000}
    manifest: Path

    @property
    def flash_bytes(self) -> int:
        return self.flash.size

    @property
    def ram_bytes(self) -> int:
        return self.ram.size

    @property
    def physical(self) -> bool:
        """A real board exists that can be flashed and read over a serial port."""
        return self.upload_protocol is not None

    @property
    def boards_dir(self) -> Path:
        return self.manifest.parent


def _int(value) -> int:
    return int(str(value), 0)


def _region(data: dict) -> Region:
    return Region(origin=_int(data["origin"]), size=_int(data["size"]))


def _renode_platform(value: str | None, board_file: Path) -> str | None:
    """A project .repl (path relative to the board file's project) becomes absolute; a path into
    Renode's own tree (`platforms/...`) stays as Renode spells it."""
    if not value or value.startswith("platforms/"):
        return value
    path = Path(value)
    return str(path if path.is_absolute() else (board_file.parent.parent / path).resolve())


def _parse(path: Path) -> Board:
    try:
        data = json.loads(path.read_text())
        th = data["tinyhil"]
        uart = th["uart"]
        memory = th["memory"]
        qemu = th.get("qemu") or {}
        renode = th.get("renode") or {}
        upload = data.get("upload", {})
        protocol = upload.get("protocol") or None
        board = Board(
            name=path.stem,
            title=data.get("name", path.stem),
            cpu=data["build"]["cpu"],
            soc=th["soc"],
            clock_hz=_int(th["clock_hz"]),
            flash=_region(memory["flash"]),
            ram=_region(memory["ram"]),
            uart=Uart(name=uart["name"], base=_int(uart["base"]), baud=_int(uart.get("baud", 115200)),
                      tx=uart.get("tx"), rx=uart.get("rx"),
                      af=_int(uart["af"]) if uart.get("af") is not None else None,
                      vcp=bool(uart.get("vcp", False))),
            cycle_counter=th.get("cycle_counter", "dwt"),
            qemu_machine=qemu.get("machine"),
            qemu_systick_hz=_int(qemu["systick_hz"]) if qemu.get("systick_hz") else None,
            renode_platform=_renode_platform(renode.get("platform"), path),
            renode_uart=renode.get("uart"),
            upload_protocol=protocol,
            usb_ids=tuple((_int(vid), _int(pid)) for vid, pid in data["build"].get("hwids", [])),
            rx_max=_int(th.get("rx_max", 4096)),
            clock=dict(th.get("clock", {})),
            manifest=path,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise UnknownBoardError(f"board file {path} is not a valid tinyhil board manifest: {e!r}") from e
    problems = []
    if board.soc not in SOCS:
        problems.append(f"soc {board.soc!r} is none of {', '.join(SOCS)}")
    if board.cycle_counter not in CYCLE_COUNTERS:
        problems.append(f"cycle_counter {board.cycle_counter!r} is none of {', '.join(CYCLE_COUNTERS)}")
    if board.upload_protocol and board.upload_protocol not in upload.get("protocols", [board.upload_protocol]):
        problems.append(f"upload.protocol {board.upload_protocol!r} is not in upload.protocols")
    if problems:
        raise UnknownBoardError(f"board file {path}: {'; '.join(problems)}")
    return board


def list_boards(boards_dir: Path = BOARDS_DIR) -> list[str]:
    """Names of the boards with a manifest, sorted."""
    return sorted(p.stem for p in Path(boards_dir).glob("*.json"))


def load_board(name: str, boards_dir: Path = BOARDS_DIR) -> Board:
    path = Path(boards_dir) / f"{name}.json"
    if not path.is_file():
        known = ", ".join(list_boards(boards_dir)) or "none"
        raise UnknownBoardError(f"unknown board {name!r}; known boards: {known}")
    return _parse(path)
