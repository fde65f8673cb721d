"""Renode target: generates a .resc script (the board, the ELF, the UART on a TCP socket) and a
Robot Framework test for `renode-test`, then runs Renode and connects to the socket.

Renode's virtual time follows its instruction count (`PerformanceInMips`); with the MIPS figure
and the NVIC (SysTick) frequency both set to the board clock, one SysTick tick is one instruction.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import serial

from harness.boards import Board
from harness.errors import DeviceError, TinyhilError, ToolMissingError
from harness.protocol.messages import READY_LINE
from harness.targets.base import CountScale, Target
from harness.targets.qemu import _free_port


def _check_board(board: Board) -> None:
    if not board.renode_platform or not board.renode_uart:
        raise TinyhilError(f"Renode does not model board {board.name!r} (no renode_platform/renode_uart)")


def renode_script(board: Board, elf: Path, port: int) -> str:
    """The .resc that loads the board and firmware and exposes the UART on 127.0.0.1:port."""
    _check_board(board)
    mips = board.clock_hz // 1_000_000
    return "\n".join([
        f'mach create "{board.name}"',
        f"machine LoadPlatformDescription @{board.renode_platform}",
        f"sysbus.cpu PerformanceInMips {mips}",
        f"sysbus.nvic Frequency {board.clock_hz}",
        f'emulation CreateServerSocketTerminal {port} "uart" false',
        f"connector Connect {board.renode_uart} uart",
        f"sysbus LoadELF @{Path(elf).resolve()}",
        "start",
        "",
    ])  # fmt: skip


def robot_test(board: Board, elf: Path, timeout_s: float = 30.0) -> str:
    """A `renode-test` suite: boots the firmware and checks the ready line."""
    _check_board(board)
    ready = READY_LINE.decode().strip()
    return "\n".join([
        "*** Settings ***",
        "Suite Setup       Setup",
        "Suite Teardown    Teardown",
        "Test Teardown     Test Teardown",
        "Resource          ${RENODEKEYWORDS}",
        "",
        "*** Test Cases ***",
        "Firmware Boots And Announces Itself",
        f'    Execute Command    mach create "{board.name}"',
        f"    Execute Command    machine LoadPlatformDescription @{board.renode_platform}",
        f"    Execute Command    sysbus.cpu PerformanceInMips {board.clock_hz // 1_000_000}",
        f"    Execute Command    sysbus.nvic Frequency {board.clock_hz}",
        f"    Execute Command    sysbus LoadELF @{Path(elf).resolve()}",
        f"    Create Terminal Tester    {board.renode_uart}    timeout={timeout_s:g}",
        "    Start Emulation",
        f"    Wait For Line On Uart    {ready}",
        "",
    ])  # fmt: skip


class RenodeTarget(Target):
    name = "renode"

    def __init__(self, board: Board, elf: Path, work_dir: Path, *, connect_timeout: float = 60.0,
                 binary: str = "renode") -> None:
        _check_board(board)
        self.board = board
        self.elf = Path(elf)
        self.work_dir = Path(work_dir)
        self.connect_timeout = connect_timeout
        self.binary = binary
        self._proc: subprocess.Popen | None = None
        self._port: serial.SerialBase | None = None

    def write_files(self, port: int) -> tuple[Path, Path]:
        """Write the .resc and the .robot next to each other; returns their paths."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        resc = self.work_dir / f"{self.board.name}.resc"
        robot = self.work_dir / f"{self.board.name}.robot"
        resc.write_text(renode_script(self.board, self.elf, port))
        robot.write_text(robot_test(self.board, self.elf))
        return resc, robot

    def open(self) -> None:
        path = shutil.which(self.binary)
        if not path:
            raise ToolMissingError(
                f"{self.binary} not found: install Renode (https://renode.io) for --target renode"
            )
        port = _free_port()
        resc, _ = self.write_files(port)
        self.log_path = self.work_dir / "renode.log"
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(
                [path, "--disable-xwt", "--console", "--plain", "-e", f"include @{resc}"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + self.connect_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise DeviceError(f"Renode exited with code {self._proc.returncode}; log: {self.log_path}")
            try:
                self._port = serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=0.1)
                return
            except serial.SerialException:
                time.sleep(0.2)
        self.close()
        raise DeviceError(f"Renode did not open its UART socket in {self.connect_timeout:g} s; log: {self.log_path}")

    def read(self, max_bytes: int, timeout: float) -> bytes:
        if self._port is None:
            raise DeviceError("Renode target is not open")
        self._port.timeout = timeout
        data = self._port.read(1)
        if data and max_bytes > 1:
            data += self._port.read(min(self._port.in_waiting, max_bytes - 1))
        return data

    def write(self, data: bytes) -> None:
        if self._port is None:
            raise DeviceError("Renode target is not open")
        self._port.write(data)

    def close(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=10)

    def count_scale(self, timer: str, timer_hz: int) -> CountScale:
        return CountScale("instructions", 1.0, 1.0)
