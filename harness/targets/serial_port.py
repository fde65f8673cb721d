"""A physical board on a serial port (pyserial). Flash with harness.build.upload_firmware.

Without --port the port is found by the board's USB ids (its manifest's `build.hwids`, the debug
probe whose virtual COM port carries the firmware's UART): exactly one port must match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import serial
from serial.tools import list_ports

from harness.boards import Board
from harness.errors import DeviceError
from harness.targets.base import CountScale, Target
from harness.targets.byte_port import append_log, read_waiting


def _ids(vid_pid: tuple[int, int]) -> str:
    return f"{vid_pid[0]:04X}:{vid_pid[1]:04X}"


def find_port(board: Board, ports: Iterable | None = None) -> str:
    """The serial device of the board's USB probe (pyserial's list_ports), or DeviceError saying
    why none (or more than one) fits. `ports`: ListPortInfo-like objects (default: this host's)."""
    if not board.physical:
        raise DeviceError(f"board {board.name} is emulator-only: it has no serial port (use --target qemu or renode)")
    if not board.uart.vcp or not board.usb_ids:
        raise DeviceError(f"board {board.name}'s UART ({board.uart.name}) does not reach the host over its USB: "
                          f"connect a USB-serial adapter to its {board.uart.tx}/{board.uart.rx} pins and pass --port")
    ports = list(list_ports.comports() if ports is None else ports)
    wanted = set(board.usb_ids)
    found = sorted(p.device for p in ports if p.vid is not None and (p.vid, p.pid) in wanted)
    ids = ", ".join(_ids(i) for i in board.usb_ids)
    if not found:
        seen = ", ".join(f"{p.device} ({_ids((p.vid, p.pid))})" if p.vid is not None else p.device
                         for p in ports) or "none"
        raise DeviceError(f"no serial port of a {board.name} (USB {ids}) is connected; ports seen: {seen}; "
                          "connect the board or pass --port")
    if len(found) > 1:
        raise DeviceError(f"{len(found)} serial ports match {board.name} (USB {ids}): {', '.join(found)}; "
                          "pass --port to choose one")
    return found[0]


class SerialTarget(Target):
    name = "serial"

    def __init__(
        self,
        port: str,
        baud: int = 115200,
        *,
        log_path: Path | None = None,
        reset: Callable[[], None] | None = None,
    ) -> None:
        """`reset` runs once the port is open (e.g. `lambda: upload_firmware(fw)`, which flashes and
        resets the board), so the boot line arrives on an open port instead of being missed.
        `log_path`, if given, receives every byte read (a raw transcript)."""
        self.port = port
        self.baud = baud
        self.log_path = log_path
        self.reset = reset
        self._serial: serial.Serial | None = None

    def open(self) -> None:
        try:
            self._serial = serial.serial_for_url(self.port, baudrate=self.baud, timeout=0.1)
        except serial.SerialException as e:
            raise DeviceError(f"cannot open serial port {self.port}: {e}") from e
        # No input flush: the ready line may already be waiting (the Device skips older noise).
        if self.log_path:
            Path(self.log_path).parent.mkdir(parents=True, exist_ok=True)
            Path(self.log_path).write_bytes(b"")
        if self.reset:
            self.reset()

    def _port(self) -> serial.Serial:
        if self._serial is None:
            raise DeviceError(f"serial port {self.port} is not open")
        return self._serial

    def read(self, max_bytes: int, timeout: float) -> bytes:
        try:
            data = read_waiting(self._port(), max_bytes, timeout)
        except serial.SerialException as e:
            raise DeviceError(f"reading {self.port} failed: {e}") from e
        append_log(self.log_path, data)
        return data

    def write(self, data: bytes) -> None:
        try:
            self._port().write(data)
            self._port().flush()
        except serial.SerialException as e:
            raise DeviceError(f"writing {self.port} failed: {e}") from e

    def close(self) -> None:
        if self._serial is not None:
            self._serial.close()
            self._serial = None

    def count_scale(self, timer: str, timer_hz: int) -> CountScale:
        # Real silicon: DWT CYCCNT counts core cycles, and SysTick runs from the core clock.
        return CountScale("cycles", 1.0, 1.0)
