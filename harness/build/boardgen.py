"""What the firmware build takes from a board file: C defines, the linker MEMORY, the upload command.

Pure functions of a `Board`, used inside PlatformIO by firmware/tools/board_config.py (so the
clock, the memory map and the UART are stated once, in boards/<name>.json) and by the harness.
"""

from __future__ import annotations

import re

from harness.boards import Board
from harness.errors import UnknownBoardError

# upload.protocol -> the program that flashes with it (what `pio run -t upload` runs).
UPLOAD_TOOLS = {"stlink": "st-flash", "jlink": "JLinkExe", "cmsis-dap": "pyocd", "pyocd": "pyocd"}
_PIN = re.compile(r"^P(?:T)?([A-Z]|\d+)\.?(\d+)$")  # PA9 (STM32), P0.06 (nRF52), PTB17 (Kinetis)


def parse_pin(name: str) -> tuple[int, int]:
    """A pin name as the SoC's manual spells it -> (port index, pin number): PA9 -> (0, 9),
    P1.03 -> (1, 3), PTB17 -> (1, 17)."""
    found = _PIN.match(name.strip().upper())
    if not found:
        raise UnknownBoardError(f"pin {name!r} is not spelled like PA9, P0.06 or PTB17")
    port, pin = found.groups()
    return (ord(port) - ord("A") if port.isalpha() else int(port)), int(pin)


def _ident(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", text.upper())


def board_defines(board: Board) -> list[tuple[str, str] | str]:
    """CPPDEFINES for the board: name, SoC family, clock, UART instance and pins, sizes."""
    uart = board.uart
    defines: list[tuple[str, str] | str] = [
        f"TH_SOC_{_ident(board.soc)}",
        ("TH_BOARD_NAME", board.name),
        ("TH_CPU_HZ", f"{board.clock_hz}u"),
        ("TH_RX_MAX", str(board.rx_max)),
        ("TH_UART_BAUD", f"{uart.baud}u"),
        ("TH_UART_BASE", f"0x{uart.base:08X}u"),
        f"TH_UART_{_ident(uart.name)}",
    ]
    if board.cycle_counter == "systick":
        defines.append("TH_NO_DWT")
    for role, pin in (("TX", uart.tx), ("RX", uart.rx)):
        if pin:
            port, number = parse_pin(pin)
            defines += [(f"TH_UART_{role}_PORT", str(port)), (f"TH_UART_{role}_PIN", str(number))]
    if uart.af is not None:
        defines.append(("TH_UART_AF", str(uart.af)))
    for key, value in sorted(board.clock.items()):
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, int):
            defines.append((f"TH_CLOCK_{_ident(key)}", f"{value}u"))
        else:
            defines.append(f"TH_CLOCK_{_ident(key)}_{_ident(str(value))}")
    return defines


def linker_memory(board: Board) -> str:
    """The board's linker script: its MEMORY (from the board file) + the shared section layout."""
    lines = [
        f"/* Generated from {board.manifest.name} by harness/build/boardgen.py: do not edit. */",
        "MEMORY",
        "{",
        f"  FLASH (rx)  : ORIGIN = 0x{board.flash.origin:08X}, LENGTH = {board.flash.size}",
        f"  RAM   (rwx) : ORIGIN = 0x{board.ram.origin:08X}, LENGTH = {board.ram.size}",
        "}",
    ]
    if board.soc == "kinetis_k":
        # Kinetis reads its flash configuration field (security, protection) at 0x400-0x40F:
        # firmware/src/soc_kinetis_k.c provides it, the shared layout places it there.
        lines.append("__th_flash_config_offset = 0x400;")
    lines.append("INCLUDE tinyhil_sections.ld")
    return "\n".join(lines) + "\n"


def upload_command(board: Board, elf: str, binary: str, hexfile: str, script: str) -> tuple[list[str], str | None]:
    """argv that flashes the board with its upload protocol, and the text of a command file the
    tool reads (J-Link) or None. `script` is where that file goes."""
    protocol = board.upload_protocol
    manifest = _manifest(board)
    if protocol == "stlink":
        return ["st-flash", "--reset", "write", binary, f"0x{board.flash.origin:08X}"], None
    if protocol == "jlink":
        device = manifest.get("debug", {}).get("jlink_device")
        if not device:
            raise UnknownBoardError(f"board {board.name}: upload.protocol jlink needs debug.jlink_device")
        commands = f"device {device}\nsi SWD\nspeed 4000\nr\nloadfile {hexfile}\nr\ng\nexit\n"
        return ["JLinkExe", "-NoGui", "1", "-ExitOnError", "1", "-CommanderScript", script], commands
    if protocol in ("cmsis-dap", "pyocd"):
        target = manifest.get("debug", {}).get("pyocd_target")
        if not target:
            raise UnknownBoardError(f"board {board.name}: upload.protocol {protocol} needs debug.pyocd_target")
        return ["pyocd", "load", "--target", target, elf], None
    raise UnknownBoardError(
        f"board {board.name}: upload.protocol {protocol!r} is none of {', '.join(UPLOAD_TOOLS)}"
    )


def _manifest(board: Board) -> dict:
    import json

    return json.loads(board.manifest.read_text())
