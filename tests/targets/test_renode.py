"""The Renode target without Renode: the monitor script, the timing scale, the generated Robot suite
and its checks, and the process handling against a stand-in monitor (tests/targets/fake_renode.py).
Runs against a real Renode are in test_renode_live.py."""

import os
import stat
import sys
import time
from pathlib import Path

import pytest

from harness.boards import list_boards, load_board
from harness.errors import DeviceError, DeviceTimeoutError, TinyhilError, ToolMissingError
from harness.protocol import Device
from harness.protocol.messages import Sample
from harness.settings import Settings
from harness.targets import RenodeTarget, renode_script
from harness.targets.renode_robot import (
    BOOT_VIRTUAL_S,
    MIN_VIRTUAL_RATE,
    SuiteSpec,
    TinyhilKeywords,
    robot_suite,
    write_suite,
)
from harness.targets.renode_script import RenodeTiming, renode_binary, renode_test_binary

ND = load_board("netduinoplus2")
FAKE = Path(__file__).with_name("fake_renode.py")


def test_resc_loads_board_elf_and_exposes_the_uart_without_starting(tmp_path):
    elf = tmp_path / "fw.elf"
    lines = renode_script(ND, elf, 4567).splitlines()
    assert lines[0] == 'mach create "netduinoplus2"'
    repl = ND.manifest.parent.parent / "renode" / "stm32f405.repl"  # the project's own, offline
    assert f"machine LoadPlatformDescription @{repl}" in lines
    assert "sysbus.cpu PerformanceInMips 168" in lines and "sysbus.nvic Frequency 168000000" in lines
    assert 'emulation CreateServerSocketTerminal 4567 "tinyhil_uart" false' in lines
    assert "connector Connect sysbus.usart1 tinyhil_uart" in lines
    assert f"sysbus LoadELF @{elf.resolve()}" in lines
    assert "start" not in lines  # the target starts the machine once its socket is connected


def test_every_renode_board_has_its_own_offline_platform_file():
    renode = {b.name: b for b in map(load_board, list_boards()) if b.renode_platform}
    assert {"netduinoplus2", "stm32f4_discovery", "nrf52840_dk", "nano33ble", "frdm_k64f"} <= set(renode)
    for board in renode.values():
        text = "\n".join(
            line for line in Path(board.renode_platform).read_text().splitlines() if not line.startswith("//")
        )
        assert "ApplySVD" not in text and "http" not in text
        peripheral = board.renode_uart.removeprefix("sysbus.")
        assert f"{peripheral}: UART." in text and f"0x{board.uart.base:08X}" in text.upper().replace("0X", "0x")
        assert f"systickFrequency: {board.clock_hz}" in text
        assert RenodeTiming.for_board(board).instructions_per_tick == 1.0


def test_one_tick_is_one_instruction_at_the_configured_performance():
    timing = RenodeTiming.for_board(ND)
    assert (timing.mips, timing.systick_hz) == (168, 168_000_000)
    assert RenodeTiming(mips=100, systick_hz=50_000_000).instructions_per_tick == 2.0  # Renode's defaults differ
    assert timing.virtual_seconds(168_000_000) == 1.0
    target = RenodeTarget(ND, Path("fw.elf"), Path("w"))
    scale = target.count_scale("systick", 168_000_000)
    assert (scale.unit, scale.per_tick) == ("instructions", 1.0)
    with pytest.raises(DeviceError, match="models no cycle counter"):
        target.count_scale("dwt_cyccnt", 168_000_000)


def test_board_without_renode_model(tmp_path):
    with pytest.raises(TinyhilError, match="Renode does not model board 'mps2_an386'"):
        RenodeTarget(load_board("mps2_an386"), tmp_path / "fw.elf", tmp_path)


def test_missing_renode_is_named(tmp_path, monkeypatch):
    (tmp_path / "fw.elf").write_bytes(b"\x7fELF")
    with pytest.raises(ToolMissingError, match="renode-not-installed not found"):
        RenodeTarget(ND, tmp_path / "fw.elf", tmp_path / "w", binary="renode-not-installed").open()
    monkeypatch.setenv("TINYHIL_RENODE", str(tmp_path / "nowhere" / "renode"))
    settings = Settings.from_environ()  # the edge reads it; the target is handed the settings' launcher
    assert settings.renode == str(tmp_path / "nowhere" / "renode")
    assert renode_binary(settings) is None and renode_test_binary(settings) is None
    with pytest.raises(ToolMissingError, match="TINYHIL_RENODE"):
        RenodeTarget(ND, tmp_path / "fw.elf", tmp_path / "w", binary=settings.renode).open()


def _launcher(tmp_path: Path, mode: str) -> tuple[Path, Path]:
    """A `renode` launcher script that runs the stand-in monitor as its child, as the real one runs mono."""
    pid_file = tmp_path / f"monitor-{mode}.pid"
    launcher = tmp_path / f"renode-{mode}"
    launcher.write_text(f"#!/bin/sh\nFAKE_RENODE_MODE={mode} FAKE_RENODE_PID={pid_file} {sys.executable} {FAKE}\n")
    launcher.chmod(launcher.stat().st_mode | stat.S_IEXEC)
    return launcher, pid_file


def _gone(pid: int, wait_s: float = 10.0) -> bool:
    """The process ended (a signal's delivery takes a moment) within wait_s."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_connects_before_start_and_kills_the_whole_group(tmp_path):
    launcher, pid_file = _launcher(tmp_path, "serve")
    (tmp_path / "fw.elf").write_bytes(b"\x7fELF")
    target = RenodeTarget(ND, tmp_path / "fw.elf", tmp_path / "w", binary=str(launcher), connect_timeout=30)
    target.quit_grace_s = 1.0
    with target:
        Device(target).wait_ready(20)  # sent at `start`, which came only after the socket connected
        monitor = int(pid_file.read_text())
        assert Path(str(pid_file) + ".tmpdir").read_text() == str(tmp_path / "w" / "tmp")  # its own TMPDIR
    assert _gone(monitor), "the monitor (the launcher's child, deaf to quit and SIGTERM) outlived close()"
    log = (tmp_path / "w" / "renode.log").read_text()
    assert "(monitor) include @" in log and "(monitor) quit" in log and "went to nobody" not in log


def test_a_monitor_error_is_a_typed_error_naming_it(tmp_path):
    launcher, pid_file = _launcher(tmp_path, "error")
    (tmp_path / "fw.elf").write_bytes(b"\x7fELF")
    target = RenodeTarget(ND, tmp_path / "fw.elf", tmp_path / "w", binary=str(launcher), connect_timeout=30)
    target.quit_grace_s = 1.0
    with pytest.raises(
        DeviceError,
        match=r"could not set up netduinoplus2: machine LoadPlatformDescription "
        r"@board.repl: Could not find file 'board.repl'.*log: .*renode.log",
    ):
        target.open()
    assert _gone(int(pid_file.read_text()))


def _spec(tmp_path, **kw) -> SuiteSpec:
    elf = tmp_path / "program.elf"
    elf.write_bytes(b"\x7fELF")
    fields = dict(
        board=ND,
        model_name="kws",
        elf=elf,
        reference=[b"\x01\x80", b"\x7f\x00"],
        counts=[4_695_768, 4_695_369],
        tolerance=100,
    )
    return SuiteSpec(**(fields | kw))


def test_robot_suite_runs_the_benchmark_with_timeouts_from_virtual_time(tmp_path):
    spec = _spec(tmp_path)
    text = robot_suite(spec)
    assert text.startswith("*** Settings ***") and "Resource          ${RENODEKEYWORDS}" in text
    assert "Library           harness.targets.renode_robot.TinyhilKeywords" in text
    assert "@{REFERENCE}       0180    7f00" in text and "@{COUNTS}          4695768    4695369" in text
    assert "    Execute Command    machine LoadPlatformDescription @${PLATFORM}" in text
    assert f"    Create Terminal Tester    ${{UART}}    timeout={BOOT_VIRTUAL_S:g}" in text
    assert text.index("Connect Tinyhil Device") < text.index("Start Emulation")
    # 2 samples of ~4.7 M instructions at 168 MIPS: 3 x 0.056 virtual s + the boot, at the slowest rate
    virtual = 3 * (4_695_768 + 4_695_369) / 168e6 + BOOT_VIRTUAL_S
    assert spec.virtual_seconds() == pytest.approx(virtual)
    assert f"    Run Flash Samples    2    timeout={virtual / MIN_VIRTUAL_RATE:.0f}" in text
    assert "    Latency Counts Should Be    @{COUNTS}    tolerance=${TOLERANCE}" in text
    suite = write_suite(spec, tmp_path / "suite")
    assert suite.name == "netduinoplus2.robot" and (tmp_path / "suite" / "firmware.elf").read_bytes() == b"\x7fELF"
    assert (tmp_path / "suite" / "board.repl").read_text() == Path(ND.renode_platform).read_text()


def test_robot_keywords_fail_on_a_wrong_output_or_count():
    keywords = TinyhilKeywords()
    keywords._samples = [
        Sample(index=0, count=1000, profiled_count=0, layer_counts=(), output=b"\x01\x80"),
        Sample(index=1, count=2000, profiled_count=0, layer_counts=(), output=b"\x7f\x00"),
    ]
    keywords.outputs_should_equal("0180", "7f00")
    keywords.latency_counts_should_be("1000", "2050", tolerance=50)
    with pytest.raises(AssertionError, match="1 of 2 outputs differ from host TFLM"):
        keywords.outputs_should_equal("0180", "7f01")
    with pytest.raises(AssertionError, match="1 samples came back, 2 expected|2 samples came back, 3 expected"):
        keywords.outputs_should_equal("0180", "7f00", "0000")
    with pytest.raises(AssertionError, match="differ from"):
        keywords.latency_counts_should_be("1000", "2051", tolerance=50)


def test_the_watchdog_stops_renode_after_its_wall_time(tmp_path):
    launcher, pid_file = _launcher(tmp_path, "serve")
    (tmp_path / "fw.elf").write_bytes(b"\x7fELF")
    target = RenodeTarget(ND, tmp_path / "fw.elf", tmp_path / "w", binary=str(launcher), connect_timeout=30,
                          max_seconds=4)
    target.quit_grace_s = 1.0
    with target:
        device = Device(target)
        device.wait_ready(20)
        with pytest.raises(DeviceTimeoutError, match="ran past its hard limit of 4 s and was stopped"):
            device.identify(timeout=30)  # the stand-in never answers: only the watchdog ends the wait
        assert _gone(int(pid_file.read_text()))
