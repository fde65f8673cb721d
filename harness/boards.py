"""Boards, read from boards/*.json: a PlatformIO board manifest plus a `tinyhil` section.

A board is one file. PlatformIO's own fields say what PlatformIO itself uses (`build.cpu`, `fpu`,
`build.hwids` — the USB ids of the board's debug probe, `upload.protocol`, `debug.*`); the
`tinyhil` section holds every other fact once: the SoC driver family, the core clock, flash and RAM
(origin and size), the UART, the cycle counter and which emulators model the board. The build
(harness/build/boardgen.py, run inside PlatformIO) turns them into the firmware's defines and
linker MEMORY. Nothing here names a board.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness import places
from harness.errors import UnknownBoardError

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
    source: str = "given"  # where the file was found: --boards-dir, $TINYHIL_BOARDS_DIR, ./boards, shipped
    sha256: str = ""  # of the board file: a changed board is a different run

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
    if path.is_absolute():
        return str(path)
    beside = (board_file.parent.parent / path).resolve()
    shipped = places.source_root() / path  # a user's board may name one of the shipped platforms
    return str(beside if beside.exists() or not shipped.exists() else shipped)


class _Fields:
    """Reads a board file's fields by dotted name, so a missing or bad one is reported by that name."""

    def __init__(self, path: Path, data: dict) -> None:
        self.path, self.data = path, data

    def get(self, dotted: str, default=KeyError, convert=None):
        value = self.data
        for part in dotted.split("."):
            if not isinstance(value, dict) or part not in value:
                if default is KeyError:
                    raise UnknownBoardError(f"board file {self.path}: field {dotted} is missing")
                return default
            value = value[part]
        if convert is None or value is None:
            return value
        try:
            return convert(value)
        except (TypeError, ValueError, KeyError, AttributeError) as e:
            raise UnknownBoardError(f"board file {self.path}: field {dotted} = {value!r} is not valid "
                                    f"({type(e).__name__}: {e})") from e


def _parse(path: Path, source: str = "given") -> Board:
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
    except (OSError, ValueError) as e:
        raise UnknownBoardError(f"board file {path} is not a valid tinyhil board manifest: {e}") from e
    if not isinstance(data, dict):
        raise UnknownBoardError(f"board file {path} is not a valid tinyhil board manifest: not a JSON object")
    f = _Fields(path, data)
    f.get("tinyhil")
    upload = f.get("upload", {}) or {}
    protocol = upload.get("protocol") or None
    af = f.get("tinyhil.uart.af", None, _int)
    board = Board(
        name=path.stem,
        title=data.get("name", path.stem),
        cpu=f.get("build.cpu"),
        soc=f.get("tinyhil.soc"),
        clock_hz=f.get("tinyhil.clock_hz", convert=_int),
        flash=f.get("tinyhil.memory.flash", convert=_region),
        ram=f.get("tinyhil.memory.ram", convert=_region),
        uart=Uart(name=f.get("tinyhil.uart.name"), base=f.get("tinyhil.uart.base", convert=_int),
                  baud=f.get("tinyhil.uart.baud", 115200, _int), tx=f.get("tinyhil.uart.tx", None),
                  rx=f.get("tinyhil.uart.rx", None), af=af, vcp=bool(f.get("tinyhil.uart.vcp", False))),
        cycle_counter=f.get("tinyhil.cycle_counter", "dwt"),
        qemu_machine=f.get("tinyhil.qemu.machine", None),
        qemu_systick_hz=f.get("tinyhil.qemu.systick_hz", None, _int),
        renode_platform=_renode_platform(f.get("tinyhil.renode.platform", None), path),
        renode_uart=f.get("tinyhil.renode.uart", None),
        upload_protocol=protocol,
        usb_ids=f.get("build.hwids", (), lambda ids: tuple((_int(vid), _int(pid)) for vid, pid in ids)),
        rx_max=f.get("tinyhil.rx_max", 4096, _int),
        clock=dict(f.get("tinyhil.clock", {}, dict)),
        manifest=path,
        source=source,
        sha256=hashlib.sha256(raw).hexdigest(),
    )
    problems = []
    if board.soc not in SOCS:
        problems.append(f"field tinyhil.soc = {board.soc!r} is none of {', '.join(SOCS)}")
    if board.cycle_counter not in CYCLE_COUNTERS:
        problems.append(f"field tinyhil.cycle_counter = {board.cycle_counter!r} is none of {', '.join(CYCLE_COUNTERS)}")
    if board.upload_protocol and board.upload_protocol not in upload.get("protocols", [board.upload_protocol]):
        problems.append(f"field upload.protocol = {board.upload_protocol!r} is not in upload.protocols")
    if problems:
        raise UnknownBoardError(f"board file {path}: {'; '.join(problems)}")
    return board


_user_dirs: list[tuple[Path, str]] = []  # the edge's `Settings.boards_dirs`, for lookups not given theirs


def use_boards_dirs(dirs: Iterable[Path | tuple[Path, str]]) -> None:
    """Install the user's board folders, set once at the edge (CLI, API): `Settings.boards_dirs`
    (--boards-dir, then $TINYHIL_BOARDS_DIR), or plain folders (counted as --boards-dir)."""
    _user_dirs[:] = [d if isinstance(d, tuple) else (Path(d).expanduser().resolve(), "--boards-dir") for d in dirs]


def board_dirs(search: Iterable[tuple[Path, str]] | None = None) -> list[tuple[Path, str]]:
    """Where board files are looked up, first match wins: the user's folders (`search`: a run's
    `Settings.boards_dirs`; default the ones the edge installed: --boards-dir, $TINYHIL_BOARDS_DIR),
    ./boards of the working folder, then the boards shipped with tinyhil."""
    found: list[tuple[Path, str]] = list(_user_dirs if search is None else search)
    local = Path("boards").resolve()
    if local.is_dir():
        found.append((local, "./boards"))
    found.append((places.shipped_boards_dir().resolve(), "shipped"))
    seen, unique = set(), []
    for folder, source in found:
        if folder not in seen:
            seen.add(folder)
            unique.append((folder, source))
    return unique


def board_catalog(search: Iterable[tuple[Path, str]] | None = None) -> list[tuple[str, Path, str, list[Path]]]:
    """Every board by name: the file used, where it came from, and the files it overrides."""
    chosen: dict[str, tuple[Path, str, list[Path]]] = {}
    for folder, source in board_dirs(search):
        for path in sorted(folder.glob("*.json")):
            if path.stem in chosen:
                chosen[path.stem][2].append(path)
            else:
                chosen[path.stem] = (path, source, [])
    return [(name, *chosen[name]) for name in sorted(chosen)]


def list_boards(boards_dir: Path | None = None, search: Iterable[tuple[Path, str]] | None = None) -> list[str]:
    """Names of the boards with a manifest, sorted (in one folder, or on the whole search path)."""
    if boards_dir is not None:
        return sorted(p.stem for p in Path(boards_dir).glob("*.json"))
    return [name for name, *_ in board_catalog(search)]


def load_board(name: str, boards_dir: Path | None = None, *,
               search: Iterable[tuple[Path, str]] | None = None) -> Board:
    """The board `name`: from `boards_dir` alone when given, else the first file on the search path
    (`search`: the user's folders, a run's `Settings.boards_dirs`; see `board_dirs`)."""
    search = None if search is None else tuple(search)
    dirs = [(Path(boards_dir), "given")] if boards_dir is not None else board_dirs(search)
    for folder, source in dirs:
        path = folder / f"{name}.json"
        if path.is_file():
            return _parse(path, source)
    known = ", ".join(list_boards(boards_dir, search)) or "none"
    raise UnknownBoardError(f"unknown board {name!r}; known boards: {known}")
