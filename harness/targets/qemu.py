"""QEMU target: the firmware ELF on an emulated board, its UART on a local TCP socket.

QEMU runs with `-icount shift=0` (one instruction = 1 ns of virtual time), so SysTick counts are
deterministic instruction counts. It starts in its own process group, and a watchdog kills that
group after `max_seconds`, so neither a hung firmware nor a hung QEMU can hang the harness.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import serial

from harness.boards import Board
from harness.errors import DeviceError, DeviceTimeoutError, TinyhilError, ToolMissingError
from harness.targets.base import CountScale, Target

QEMU_BINARY = "qemu-system-arm"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def qemu_version(binary: str = QEMU_BINARY) -> str | None:
    path = shutil.which(binary)
    if not path:
        return None
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    return out.splitlines()[0].strip() if out else None


class QemuTarget(Target):
    name = "qemu"

    def __init__(
        self,
        board: Board,
        elf: Path,
        *,
        log_dir: Path | None = None,
        max_seconds: float = 600.0,
        connect_timeout: float = 10.0,
        binary: str = QEMU_BINARY,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        if not board.qemu_machine:
            raise TinyhilError(f"QEMU does not model board {board.name!r} (no qemu_machine in its manifest)")
        self.board = board
        self.elf = Path(elf)
        self.log_dir = Path(log_dir) if log_dir else None
        self.max_seconds = max_seconds
        self.connect_timeout = connect_timeout
        self.binary = binary
        self.extra_args = tuple(extra_args)
        self._proc: subprocess.Popen | None = None
        self._port: serial.SerialBase | None = None
        self._watchdog: threading.Timer | None = None
        self._expired = False

    def command(self, port: int) -> list[str]:
        return [
            self.binary, "-M", self.board.qemu_machine, "-nographic", "-monitor", "none",
            "-icount", "shift=0",
            # a stray semihosting call (bkpt 0xab) must not hang QEMU
            "-semihosting-config", "enable=on,target=native",
            "-serial", f"tcp:127.0.0.1:{port},server=on,wait=on",
            "-kernel", str(self.elf), *self.extra_args,
        ]  # fmt: skip

    def open(self) -> None:
        if not shutil.which(self.binary):
            raise ToolMissingError(
                f"{self.binary} not found: install qemu-system-arm (Debian: apt install qemu-system-arm)"
            )
        if not self.elf.is_file():
            raise TinyhilError(f"firmware {self.elf} does not exist")
        log_dir = self.log_dir or Path(tempfile.mkdtemp(prefix="tinyhil-qemu-"))
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / "qemu.log"
        for _attempt in range(3):  # the free port may be taken between probing and binding
            port = _free_port()
            with open(self.log_path, "ab") as log:
                log.write(("$ " + " ".join(self.command(port)) + "\n").encode())
                self._proc = subprocess.Popen(
                    self.command(port), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
            self._watchdog = threading.Timer(self.max_seconds, self._expire)
            self._watchdog.daemon = True
            self._watchdog.start()
            if self._connect(port):
                return
            self._kill()
        raise DeviceError(f"QEMU did not accept a serial connection; log: {self.log_path}")

    def _connect(self, port: int) -> bool:
        deadline = time.monotonic() + self.connect_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                self._port = serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=0.1)
                return True
            except serial.SerialException:
                time.sleep(0.05)
        return False

    def _expire(self) -> None:
        self._expired = True
        self._kill()

    def _kill(self) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)

    def _check_alive(self) -> None:
        if self._expired:
            raise DeviceTimeoutError(
                f"QEMU ran past its hard limit of {self.max_seconds:g} s and was killed; log: {self.log_path}"
            )
        if self._proc is None or self._port is None:
            raise DeviceError("QEMU target is not open")
        code = self._proc.poll()
        if code is not None:
            raise DeviceError(f"QEMU exited with code {code}; log: {self.log_path}")

    def read(self, max_bytes: int, timeout: float) -> bytes:
        self._check_alive()
        self._port.timeout = timeout
        try:
            data = self._port.read(1)
            if data and max_bytes > 1:
                data += self._port.read(min(self._port.in_waiting, max_bytes - 1))
        except serial.SerialException as e:
            self._check_alive()
            raise DeviceError(f"QEMU serial connection failed: {e}; log: {self.log_path}") from e
        return data

    def write(self, data: bytes) -> None:
        self._check_alive()
        self._port.write(data)

    def close(self) -> None:
        if self._watchdog:
            self._watchdog.cancel()
        if self._port is not None:
            try:
                self._port.close()
            except serial.SerialException:
                pass
            self._port = None
        self._kill()

    def count_scale(self, timer: str, timer_hz: int) -> CountScale:
        if timer == "dwt_cyccnt":
            return CountScale("cycles", 1.0, 1.0)
        # SysTick in QEMU ticks at the emulated core clock; with icount shift=0 each virtual ns is
        # one instruction, so a tick is 1e9 / clock instructions.
        per_tick = 1e9 / (self.board.qemu_systick_hz or timer_hz)
        return CountScale("instructions", per_tick, per_tick)
