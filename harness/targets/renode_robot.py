"""The benchmark as a Robot Framework suite for `renode-test`, and its keyword library.

The suite is self-contained in one folder (the ELF and the board's .repl copied beside it): it
boots the firmware, waits for the ready line (a Renode terminal tester, timeout in virtual
seconds), runs N flash samples through `TinyhilKeywords` — the harness's own protocol code
(`harness.protocol.Device`) over Renode's UART socket — and checks every output against the host
TFLM reference and every latency count against the calibration run, both embedded in the suite.

Timeouts are sized from virtual time. A sample needs `count` instructions, i.e. count / (MIPS*1e6)
virtual seconds. Renode's virtual clock runs slower than the wall clock, slowest while the
firmware busy-polls its UART (measured: 0.006-0.018 virtual s per host second), so the wall-time
waits are the virtual need divided by `MIN_VIRTUAL_RATE`, a floor below anything measured.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

from harness.boards import Board
from harness.errors import DeviceError, ToolMissingError
from harness.protocol.messages import READY_LINE
from harness.settings import Settings
from harness.targets.renode_script import UART_TERMINAL, RenodeTiming, check_board, renode_test_binary

MIN_VIRTUAL_RATE = 0.004  # virtual seconds per wall second, a floor under Renode's slowest here
BOOT_VIRTUAL_S = 0.5  # virtual seconds the firmware may take to print its ready line
MARGIN = 3.0  # times the calibrated virtual need
STARTUP_WALL_S = 300.0  # Renode's start and platform load, wall time


@dataclass(frozen=True)
class SuiteSpec:
    """What the generated suite checks: the host reference and the calibrated counts per sample."""

    board: Board
    model_name: str
    elf: Path
    reference: list[bytes]  # host TFLM output bytes, per sample
    counts: list[int]  # SysTick ticks per sample from the calibration run (overhead included)
    tolerance: int  # ticks a count may differ by

    def virtual_seconds(self) -> float:
        timing = RenodeTiming.for_board(self.board)
        return MARGIN * timing.virtual_seconds(sum(self.counts) * timing.instructions_per_tick) + BOOT_VIRTUAL_S

    def wall_timeout(self) -> float:
        return self.virtual_seconds() / MIN_VIRTUAL_RATE


def robot_suite(spec: SuiteSpec) -> str:
    """The .robot text; it expects `firmware.elf` and `board.repl` beside it."""
    board = spec.board
    check_board(board)
    timing = RenodeTiming.for_board(board)
    n = len(spec.reference)
    run_wall = spec.wall_timeout()
    return "\n".join([
        "*** Settings ***",
        f"Documentation     tinyhil: {spec.model_name} on {board.name} in Renode, {n} flash samples checked "
        "bit-exact against host TFLM, latency counts against the calibration run (SysTick ticks; "
        f"{timing.instructions_per_tick:g} instruction per tick at PerformanceInMips {timing.mips}).",
        "Suite Setup       Setup",
        "Suite Teardown    Teardown",
        "Test Teardown     Test Teardown",
        "Resource          ${RENODEKEYWORDS}",
        "Library           harness.targets.renode_robot.TinyhilKeywords",
        "",
        "*** Variables ***",
        "${ELF}             ${CURDIR}/firmware.elf",
        "${PLATFORM}        ${CURDIR}/board.repl",
        f"${{UART}}            {board.renode_uart}",
        f"${{TOLERANCE}}       {spec.tolerance}",
        "@{REFERENCE}       " + "    ".join(r.hex() for r in spec.reference),
        "@{COUNTS}          " + "    ".join(str(c) for c in spec.counts),
        "",
        "*** Test Cases ***",
        f"Runs {n} Samples Bit-Exact With The Calibrated Latency",
        f"    [Timeout]    {STARTUP_WALL_S + run_wall:.0f} seconds",
        "    [Teardown]    Run Keywords    Disconnect Tinyhil Device    AND    Test Teardown",
        f'    Execute Command    mach create "{board.name}"',
        "    Execute Command    machine LoadPlatformDescription @${PLATFORM}",
        f"    Execute Command    sysbus.cpu PerformanceInMips {timing.mips}",
        f"    Execute Command    sysbus.nvic Frequency {timing.systick_hz}",
        "    Execute Command    sysbus LoadELF @${ELF}",
        "    ${port}=    Free Local Port",
        f'    Execute Command    emulation CreateServerSocketTerminal ${{port}} "{UART_TERMINAL}" false',
        f"    Execute Command    connector Connect ${{UART}} {UART_TERMINAL}",
        f"    Create Terminal Tester    ${{UART}}    timeout={BOOT_VIRTUAL_S:g}",
        "    Connect Tinyhil Device    ${port}",
        "    Start Emulation",
        f"    Wait For Line On Uart    {READY_LINE.decode().strip()}",
        f"    Run Flash Samples    {n}    timeout={run_wall:.0f}",
        "    Outputs Should Equal    @{REFERENCE}",
        "    Latency Counts Should Be    @{COUNTS}    tolerance=${TOLERANCE}",
        "",
    ])  # fmt: skip


def write_suite(spec: SuiteSpec, out_dir: Path) -> Path:
    """The suite folder: `<board>.robot`, `firmware.elf`, `board.repl`; returns the .robot path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(spec.elf, out_dir / "firmware.elf")
    shutil.copyfile(spec.board.renode_platform, out_dir / "board.repl")
    path = out_dir / f"{spec.board.name}.robot"
    path.write_text(robot_suite(spec))
    return path


def library_path() -> str:
    """PYTHONPATH for renode-test's own Python, so `harness` and its dependencies import there (the
    caller's own PYTHONPATH kept after them: the subprocess's environment, not a tinyhil setting)."""
    here = Path(__file__).resolve().parents[2]
    site = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    return os.pathsep.join([str(here), *sorted(site), *filter(None, [os.environ.get("PYTHONPATH")])])


def run_robot(suite: Path, results_dir: Path, timeout: float | None = None,
              settings: Settings | None = None) -> subprocess.CompletedProcess:
    """Run one suite under renode-test (the settings' TINYHIL_RENODE_TEST / TINYHIL_RENODE, else PATH);
    its results (robot_output.xml, logs) go to results_dir."""
    binary = renode_test_binary(settings)
    if not binary:
        raise ToolMissingError(
            "renode-test not found: install Renode's test runner (renode-test) and put it on "
            "PATH, or point TINYHIL_RENODE_TEST (or TINYHIL_RENODE) at it"
        )
    results_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": library_path(), "TMPDIR": str(_tmp(results_dir))}  # renode-test's own
    with open(results_dir / "renode-test.log", "wb") as log:
        return subprocess.run(
            [binary, str(suite), "-r", str(results_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            timeout=timeout,
            start_new_session=True,
        )


def _tmp(results_dir: Path) -> Path:
    tmp = results_dir / "tmp"
    tmp.mkdir(exist_ok=True)
    return tmp


class _UartSocket:
    """Renode's UART socket as a harness Target (only the byte stream; Renode is run by renode-test)."""

    name = "renode"
    log_path = None

    def __init__(self, port: int, connect_timeout: float) -> None:
        import serial

        deadline = time.monotonic() + connect_timeout
        while True:
            try:
                self._port = serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=0.1)
                return
            except serial.SerialException as e:
                if time.monotonic() > deadline:
                    raise DeviceError(f"Renode's UART socket {port} did not accept a connection: {e}") from e
                time.sleep(0.2)

    def read(self, max_bytes: int, timeout: float) -> bytes:
        self._port.timeout = timeout
        data = self._port.read(1)
        if data and max_bytes > 1:
            data += self._port.read(min(self._port.in_waiting, max_bytes - 1))
        return data

    def write(self, data: bytes) -> None:
        self._port.write(data)

    def close(self) -> None:
        self._port.close()


class TinyhilKeywords:
    """Robot keywords over the harness's protocol client. One instance per suite."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self._uart: _UartSocket | None = None
        self._device = None
        self._samples: list = []

    def free_local_port(self) -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def connect_tinyhil_device(self, port, timeout: float = 60.0) -> None:
        from harness.protocol import Device

        self._uart = _UartSocket(int(port), float(timeout))
        self._device = Device(self._uart, timeout=float(timeout))

    def run_flash_samples(self, count, timeout: float = 600.0) -> None:
        """Wait for the ready line on the socket, then run `count` flash samples (wall seconds)."""
        device = self._device
        device.wait_ready(float(timeout))
        ident = device.identify()
        if ident.timer != "systick":
            raise AssertionError(f"timer {ident.timer!r}: Renode models no cycle counter, expected systick")
        self._samples = []
        device.run_flash(0, int(count), False, timeout=float(timeout), on_sample=self._samples.append)

    def outputs_should_equal(self, *reference: str) -> None:
        got = [s.output.hex() for s in self._samples]
        if len(got) != len(reference):
            raise AssertionError(f"{len(got)} samples came back, {len(reference)} expected")
        bad = [i for i, (g, r) in enumerate(zip(got, reference, strict=True)) if g != r]
        if bad:
            raise AssertionError(
                f"{len(bad)} of {len(got)} outputs differ from host TFLM (samples {bad[:10]}); "
                f"sample {bad[0]}: {got[bad[0]]} != {reference[bad[0]]}"
            )

    def latency_counts_should_be(self, *counts: str, tolerance: int = 0) -> None:
        got = [s.count for s in self._samples]
        want = [int(c) for c in counts]
        off = [(i, g, w) for i, (g, w) in enumerate(zip(got, want, strict=True)) if abs(g - w) > int(tolerance)]
        if len(got) != len(want) or off:
            raise AssertionError(
                f"latency counts (SysTick ticks) {got} differ from {want} by more than {tolerance}: {off[:5]}"
            )

    def disconnect_tinyhil_device(self) -> None:
        if self._uart:
            self._uart.close()
            self._uart = None
