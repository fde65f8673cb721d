"""A physical board on a serial port (pyserial). Flash with harness.build.upload_firmware."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import serial

from harness.errors import DeviceError
from harness.targets.base import CountScale, Target


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
        port = self._port()
        port.timeout = timeout
        try:
            data = port.read(1)
            if data and max_bytes > 1:
                data += port.read(min(port.in_waiting, max_bytes - 1))
        except serial.SerialException as e:
            raise DeviceError(f"reading {self.port} failed: {e}") from e
        if data and self.log_path:
            with open(self.log_path, "ab") as log:
                log.write(data)
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
