"""Renode is not installable here: the generated .resc and Robot files are checked by content."""

import shutil
from pathlib import Path

import pytest

from harness.boards import load_board
from harness.errors import TinyhilError, ToolMissingError
from harness.targets import RenodeTarget, renode_script, robot_test

ND = load_board("netduinoplus2")


def test_resc_loads_board_elf_and_exposes_the_uart(tmp_path):
    elf = tmp_path / "fw.elf"
    text = renode_script(ND, elf, 4567)
    lines = text.splitlines()
    assert lines[0] == 'mach create "netduinoplus2"'
    # the project's own platform file (offline: Renode's stm32f4.repl fetches an SVD by URL)
    repl = ND.manifest.parent.parent / "renode" / "stm32f405.repl"
    assert f"machine LoadPlatformDescription @{repl}" in lines
    assert "sysbus.cpu PerformanceInMips 168" in lines and "sysbus.nvic Frequency 168000000" in lines
    assert 'emulation CreateServerSocketTerminal 4567 "uart" false' in lines
    assert "connector Connect sysbus.usart1 uart" in lines
    assert f"sysbus LoadELF @{elf.resolve()}" in lines
    assert lines.index("start") > lines.index(f"sysbus LoadELF @{elf.resolve()}")


def test_every_renode_board_has_its_own_offline_platform_file():
    from harness.boards import list_boards

    boards = [load_board(n) for n in list_boards()]
    renode = {b.name: b for b in boards if b.renode_platform}
    assert {"netduinoplus2", "stm32f4_discovery", "nrf52840_dk", "nano33ble", "frdm_k64f"} <= set(renode)
    for board in renode.values():
        text = "\n".join(line for line in Path(board.renode_platform).read_text().splitlines()
                         if not line.startswith("//"))
        assert "ApplySVD" not in text and "http" not in text
        peripheral = board.renode_uart.removeprefix("sysbus.")
        assert f"{peripheral}: UART." in text and f"0x{board.uart.base:08X}" in text.upper().replace("0X", "0x")
        assert f"systickFrequency: {board.clock_hz}" in text


def test_robot_suite_waits_for_the_ready_line(tmp_path):
    text = robot_test(ND, tmp_path / "fw.elf", timeout_s=12)
    assert text.startswith("*** Settings ***")
    assert "Resource          ${RENODEKEYWORDS}" in text
    assert "    Create Terminal Tester    sysbus.usart1    timeout=12" in text
    assert "    Wait For Line On Uart    TINYHIL READY" in text


def test_target_writes_files_and_needs_renode(tmp_path):
    target = RenodeTarget(ND, tmp_path / "fw.elf", tmp_path / "renode", binary="renode-not-installed")
    resc, robot = target.write_files(1234)
    assert resc.read_text() == renode_script(ND, tmp_path / "fw.elf", 1234) and robot.suffix == ".robot"
    with pytest.raises(ToolMissingError, match="renode-not-installed not found"):
        target.open()


@pytest.mark.skipif(shutil.which("renode") is not None, reason="renode is installed here")
def test_default_binary_missing_here(tmp_path):
    with pytest.raises(ToolMissingError, match="renode not found"):
        RenodeTarget(ND, tmp_path / "fw.elf", tmp_path).open()


def test_board_without_renode_model(tmp_path):
    with pytest.raises(TinyhilError, match="Renode does not model board 'mps2_an386'"):
        RenodeTarget(load_board("mps2_an386"), tmp_path / "fw.elf", tmp_path)
