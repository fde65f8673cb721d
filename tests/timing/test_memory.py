"""Every shipped Cortex-M4 board has a memory timing section the model can use, with its sources."""

from __future__ import annotations

import json

import pytest

from harness.boards import list_boards, load_board
from harness.errors import UnknownBoardError
from harness.timing.memory import load_memory_timing
from harness.timing.model import CortexM4Model

NOT_IN_QEMU = ("nucleo_l4r5zi", "nucleo_f446re", "stm32f4_discovery", "frdm_k64f", "nano33ble", "nrf52840_dk")


@pytest.mark.parametrize("name", list_boards())
def test_every_board_has_a_cited_timing_section(name):
    board = load_board(name)
    timing = load_memory_timing(board)
    assert timing.memory_source and timing.sram and timing.current_source
    if board.qemu_machine:
        assert timing.emulated_on is None
    else:
        runner = load_board(timing.emulated_on)
        assert runner.qemu_machine and runner.cpu == board.cpu == "cortex-m4"


def test_the_six_boards_qemu_does_not_model_are_covered():
    assert set(NOT_IN_QEMU) <= set(list_boards())
    for name in NOT_IN_QEMU:
        assert load_memory_timing(load_board(name)).emulated_on == "mps2_an386"


def test_energy_is_time_current_and_voltage():
    board = load_board("nucleo_l4r5zi")
    timing = load_memory_timing(board)
    cols = CortexM4Model().columns(1_200_000, board, timing)  # 10 ms at 120 MHz
    assert cols["latency_ms_est"] == pytest.approx(10.0)
    assert cols["energy_uj_est"] == pytest.approx(10.0 * timing.run_current_ma * timing.supply_v)
    assert cols["timing_model"] == "cm4-trm 2"
    assert CortexM4Model().columns(1, load_board("mps2_an386"), load_memory_timing(load_board("mps2_an386")))[
        "energy_uj_est"] is None  # an FPGA prototype has no datasheet current


def test_a_board_without_timing_is_refused_by_name(tmp_path):
    data = json.loads(load_board("nucleo_l4r5zi").manifest.read_text())
    del data["tinyhil"]["timing"]
    (tmp_path / "plain_board.json").write_text(json.dumps(data))
    with pytest.raises(UnknownBoardError, match="plain_board.*no timing section"):
        load_memory_timing(load_board("plain_board", tmp_path))
