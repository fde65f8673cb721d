"""Renode target: the firmware on a Renode machine, its UART on a local TCP socket.

Renode runs headless (`--disable-xwt --console --plain`) in its own process group with its own
TMPDIR (Renode deletes `$TMPDIR/renode-*` folders of processes it does not see, so two runs sharing
one TMPDIR break each other). Its monitor reads commands from stdin and quits when stdin closes, so
the target keeps that pipe open for the whole run and speaks to the monitor through it. A watchdog
ends the process group after `max_seconds` of wall time. Shutdown is `quit` on the monitor, then
SIGTERM and SIGKILL to the group (the `renode` launcher may run mono as a child).
"""

from __future__ import annotations

import functools
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import serial

from harness.boards import Board
from harness.errors import DeviceError, DeviceTimeoutError, TinyhilError, ToolMissingError
from harness.targets.base import CountScale, Target
from harness.targets.byte_port import read_waiting
from harness.targets.qemu import _free_port
from harness.targets.renode_script import RenodeTiming, check_board, renode_binary, renode_script

QUIT_GRACE_S = 10.0  # how long Renode may take to quit from its monitor before it is killed
# What Renode's monitor prints when a command fails (with --plain, no colour codes around it):
# "There was an error executing command '<command>'" and the reason on the next line, or
# "No such command or device: <name>".
_MONITOR_ERROR = re.compile(
    r"^There was an error executing command '(.*)'\n(.*)$|^(No such command or device: .*)$", re.M
)


@functools.cache
def renode_version(binary: str | None = None) -> str | None:
    """`Renode 1.15.3.32547` style text from `renode --version`, or None without Renode."""
    path = binary or renode_binary()
    if not path:
        return None
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"Renode,? v?(\d[\w.\-]*)", out)
    return f"Renode {match.group(1)}" if match else None


class RenodeTarget(Target):
    name = "renode"

    def __init__(
        self,
        board: Board,
        elf: Path,
        work_dir: Path,
        *,
        max_seconds: float = 900.0,
        connect_timeout: float = 120.0,
        binary: str | None = None,
    ) -> None:
        check_board(board)
        self.board = board
        self.elf = Path(elf)
        self.work_dir = Path(work_dir)
        self.max_seconds = max_seconds
        self.connect_timeout = connect_timeout  # startup + platform load: 15-35 s on a loaded host
        self.binary = binary
        self.quit_grace_s = QUIT_GRACE_S
        self.timing = RenodeTiming.for_board(board)
        self._proc: subprocess.Popen | None = None
        self.pid: int | None = None  # Renode's process group, kept after close for the record
        self._port: serial.SerialBase | None = None
        self._watchdog: threading.Timer | None = None
        self._expired = False

    def write_script(self, port: int) -> Path:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        resc = self.work_dir / f"{self.board.name}.resc"
        resc.write_text(renode_script(self.board, self.elf, port))
        return resc

    def provenance(self) -> dict:
        return {"renode_version": renode_version(self._binary())}

    def _binary(self) -> str:
        path = self.binary or renode_binary()
        if not path or not os.access(path, os.X_OK):
            raise ToolMissingError(
                f"{self.binary or 'renode'} not found: install Renode (https://renode.io) and put `renode` on PATH "
                "or point TINYHIL_RENODE at its launcher, for --target renode"
            )
        return path

    # -- lifecycle ---------------------------------------------------------------------------
    def open(self) -> None:
        binary = self._binary()
        if not self.elf.is_file():
            raise TinyhilError(f"firmware {self.elf} does not exist")
        port = _free_port()
        resc = self.write_script(port)
        tmp = self.work_dir / "tmp"
        tmp.mkdir(exist_ok=True)
        self.log_path = self.work_dir / "renode.log"
        command = [binary, "--disable-xwt", "--console", "--plain"]
        with open(self.log_path, "wb") as log:
            log.write(("$ " + " ".join(command) + f"\n# monitor: include @{resc}\n").encode())
            log.flush()
            self._proc = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, "TMPDIR": str(tmp)},
            )  # fmt: skip
        self.pid = self._proc.pid
        self._watchdog = threading.Timer(self.max_seconds, self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()
        try:
            self.monitor(f"include @{resc}")
            self._connect(port)
            self.monitor("start")  # only now: boot output before the socket is connected would be lost
        except BaseException:
            self.close()
            raise

    def monitor(self, command: str) -> None:
        """One command to Renode's monitor (its output goes to the log)."""
        if self._proc is None or self._proc.stdin is None:
            raise DeviceError("Renode target is not open")
        try:
            self._proc.stdin.write(command.encode() + b"\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, ValueError) as e:
            raise DeviceError(f"Renode's monitor is gone ({e}); log: {self.log_path}") from e

    def _monitor_error(self) -> str | None:
        found = _MONITOR_ERROR.search(self.log_path.read_text(errors="replace"))
        if not found:
            return None
        return found.group(3) or f"{found.group(1)}: {found.group(2).strip()}"

    def _connect(self, port: int) -> None:
        deadline = time.monotonic() + self.connect_timeout
        while time.monotonic() < deadline:
            self._check_alive(connected=False)
            error = self._monitor_error()
            if error:
                raise DeviceError(f"Renode could not set up {self.board.name}: {error}; log: {self.log_path}")
            try:
                self._port = serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=0.1)
                return
            except serial.SerialException:
                time.sleep(0.2)
        raise DeviceTimeoutError(
            f"Renode did not open its UART socket in {self.connect_timeout:g} s; log: {self.log_path}"
        )

    def _expire(self) -> None:
        self._expired = True
        self._kill_group(signal.SIGKILL)

    def _kill_group(self, sig: int) -> None:
        if self._proc is None:
            return
        try:
            os.killpg(self._proc.pid, sig)  # the group outlives a launcher script that exited first
        except (ProcessLookupError, PermissionError):
            pass

    def close(self) -> None:
        if self._watchdog:
            self._watchdog.cancel()
        if self._port is not None:
            try:
                self._port.close()
            except serial.SerialException:
                pass
            self._port = None
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            try:
                proc.stdin.write(b"quit\n")
                proc.stdin.close()
                proc.wait(timeout=self.quit_grace_s)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):  # whatever of the group is left (mono under a launcher)
            self._kill_group(sig)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                continue
            if not self._group_alive():
                break
        self._proc = None

    def _group_alive(self) -> bool:
        try:
            os.killpg(self._proc.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    # -- byte stream -------------------------------------------------------------------------
    def _check_alive(self, connected: bool = True) -> None:
        if self._expired:
            raise DeviceTimeoutError(
                f"Renode ran past its hard limit of {self.max_seconds:g} s and was stopped; log: {self.log_path}"
            )
        if self._proc is None or (connected and self._port is None):
            raise DeviceError("Renode target is not open")
        code = self._proc.poll()
        if code is not None:
            error = self._monitor_error()
            raise DeviceError(
                f"Renode exited with code {code}" + (f" ({error})" if error else "") + f"; log: {self.log_path}"
            )

    def read(self, max_bytes: int, timeout: float) -> bytes:
        self._check_alive()
        try:
            data = read_waiting(self._port, max_bytes, timeout)
        except serial.SerialException as e:
            self._check_alive()
            raise DeviceError(f"Renode's UART socket failed: {e}; log: {self.log_path}") from e
        return data

    def write(self, data: bytes) -> None:
        self._check_alive()
        try:
            self._port.write(data)
        except serial.SerialException as e:
            self._check_alive()
            raise DeviceError(f"Renode's UART socket failed: {e}; log: {self.log_path}") from e

    def count_scale(self, timer: str, timer_hz: int) -> CountScale:
        if timer != "systick":
            raise DeviceError(
                f"the firmware reports timer {timer!r} under Renode, which models no cycle counter: its unit is unknown"
            )
        per_tick = self.timing.instructions_per_tick
        return CountScale("instructions", per_tick, per_tick)
