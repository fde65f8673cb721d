"""QEMU target: the firmware ELF on an emulated board, its UART on a local TCP socket.

QEMU runs with `-icount shift=0` (one instruction = 1 ns of virtual time), so SysTick counts are
deterministic instruction counts. It starts in its own process group, and a watchdog kills that
group after `max_seconds`, so neither a hung firmware nor a hung QEMU can hang the harness.
"""

from __future__ import annotations

import json
import os
import re
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
from harness.targets.byte_port import read_waiting

QEMU_BINARY = "qemu-system-arm"
SERIAL_MODES = ("tcp", "pty")
_PTY_LINE = re.compile(rb"char device redirected to (/dev/pts/\d+)")


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


def _qmp_call(stream, command: str | None) -> dict:
    """Send one QMP command (None: just read the greeting) and return its reply."""
    if command:
        stream.write(json.dumps({"execute": command}).encode() + b"\n")
        stream.flush()
    while True:
        line = stream.readline()
        if not line:
            raise OSError("QMP connection closed")
        reply = json.loads(line)
        if "event" not in reply:  # skip asynchronous events
            if "error" in reply:
                raise OSError(f"QMP {command} failed: {reply['error']}")
            return reply


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
        serial_mode: str = "tcp",
    ) -> None:
        """serial_mode "tcp": the UART on a local socket (QEMU waits for the connection before
        running). "pty": the UART on a /dev/pts device opened with pyserial; QEMU starts paused and
        is resumed over QMP once the pty is open, since QEMU drops output while nobody has it open."""
        if serial_mode not in SERIAL_MODES:
            raise TinyhilError(f"unknown QEMU serial mode {serial_mode!r}; choose one of {', '.join(SERIAL_MODES)}")
        if not board.qemu_machine:
            raise TinyhilError(f"QEMU does not model board {board.name!r} (no qemu_machine in its manifest)")
        self.board = board
        self.elf = Path(elf)
        self.log_dir = Path(log_dir) if log_dir else None
        self.max_seconds = max_seconds
        self.connect_timeout = connect_timeout
        self.binary = binary
        self.extra_args = tuple(extra_args)
        self.serial_mode = serial_mode
        self.pty_path: str | None = None
        self._proc: subprocess.Popen | None = None
        self._port: serial.SerialBase | None = None
        self._watchdog: threading.Timer | None = None
        self._expired = False
        # QMP (reset) on a private unix socket: a second probed TCP port could race other processes
        self._qmp_dir: str | None = None
        self._qmp_path = "qmp.sock"  # made private to each open()

    def command(self, port: int) -> list[str]:
        return [
            self.binary, "-M", self.board.qemu_machine, "-nographic", "-monitor", "none",
            "-icount", "shift=0",
            # a stray semihosting call (bkpt 0xab) must not hang QEMU
            "-semihosting-config", "enable=on,target=native",
            *(["-serial", f"tcp:127.0.0.1:{port},server=on,wait=on",
               "-qmp", f"unix:{self._qmp_path},server=on,wait=off"] if self.serial_mode == "tcp" else
              ["-serial", "pty", "-S", "-qmp", f"tcp:127.0.0.1:{port},server=on,wait=off"]),
            "-kernel", str(self.elf), *self.extra_args,
        ]  # fmt: skip

    def open(self) -> None:
        if not shutil.which(self.binary):
            raise ToolMissingError(
                f"{self.binary} not found: install qemu-system-arm (Debian: apt install qemu-system-arm)"
            )
        if not self.elf.is_file():
            raise TinyhilError(f"firmware {self.elf} does not exist")
        self._qmp_dir = tempfile.mkdtemp(prefix="tinyhil-qmp-")
        self._qmp_path = os.path.join(self._qmp_dir, "qmp.sock")
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
            if self._watchdog:
                self._watchdog.cancel()
            self._watchdog = threading.Timer(self.max_seconds, self._expire)
            self._watchdog.daemon = True
            self._watchdog.start()
            connected = self._connect(port) if self.serial_mode == "tcp" else self._connect_pty(port)
            if connected:
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

    def _connect_pty(self, qmp_port: int) -> bool:
        deadline = time.monotonic() + self.connect_timeout
        self.pty_path = None
        while not self.pty_path:
            if self._proc.poll() is not None or time.monotonic() > deadline:
                return False
            found = _PTY_LINE.search(self.log_path.read_bytes())
            if found:
                self.pty_path = found.group(1).decode()
            else:
                time.sleep(0.05)
        self._port = serial.Serial(self.pty_path, timeout=0.1)
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", qmp_port), timeout=self.connect_timeout) as qmp:
                    stream = qmp.makefile("rwb")
                    _qmp_call(stream, None)  # the greeting
                    _qmp_call(stream, "qmp_capabilities")
                    _qmp_call(stream, "cont")  # start the guest now that the pty is open
                    return True
            except OSError:
                if self._proc.poll() is not None:
                    return False
                time.sleep(0.05)
        return False

    # -- faults on purpose (tests, benchmarks/faults.py) --------------------------------------
    def reset(self) -> None:
        """Reset the emulated board (QMP system_reset): the firmware reboots, the link stays."""
        if self.serial_mode != "tcp":
            raise TinyhilError("reset() needs the tcp serial mode (its QMP socket)")
        with socket.socket(socket.AF_UNIX) as qmp:
            qmp.settimeout(self.connect_timeout)
            qmp.connect(self._qmp_path)
            stream = qmp.makefile("rwb")
            _qmp_call(stream, None)
            _qmp_call(stream, "qmp_capabilities")
            _qmp_call(stream, "system_reset")

    def freeze(self) -> None:
        """Stop the QEMU process (SIGSTOP), as a hung host or USB bridge would look."""
        os.killpg(self._proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.killpg(self._proc.pid, signal.SIGCONT)

    def kill(self) -> None:
        """Kill QEMU now (SIGKILL), as a crash or a pulled cable would look."""
        self._kill()

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
        try:
            data = read_waiting(self._port, max_bytes, timeout)
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
        if self._qmp_dir:
            shutil.rmtree(self._qmp_dir, ignore_errors=True)
            self._qmp_dir = None
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
