import json

import pytest

from harness.boards import Board, UnknownBoardError, list_boards, load_board
from harness.errors import TinyhilError


def test_known_boards_load_with_their_facts():
    assert {"mps2_an386", "netduinoplus2"} <= set(list_boards())
    nd = load_board("netduinoplus2")
    assert isinstance(nd, Board)
    assert (nd.clock_hz, nd.flash_bytes, nd.ram_bytes) == (168_000_000, 1024 * 1024, 128 * 1024)
    assert nd.qemu_machine == "netduinoplus2" and nd.uart.base == 0x40011000 and nd.uart.baud == 115200
    mps2 = load_board("mps2_an386")
    assert mps2.qemu_machine == "mps2-an386" and mps2.qemu_systick_hz == 25_000_000
    assert mps2.uart.base == 0x40004000 and not mps2.physical


def test_board_files_are_platformio_manifests():
    for name in list_boards():
        data = json.loads(load_board(name).manifest.read_text())
        assert data["build"]["cpu"] == "cortex-m4"
        assert data["upload"]["maximum_size"] == data["tinyhil"]["flash_bytes"]
        assert data["upload"]["maximum_ram_size"] == data["tinyhil"]["ram_bytes"]


def test_unknown_board_lists_the_known_ones():
    with pytest.raises(UnknownBoardError, match="unknown board 'nucleo_x'.*mps2_an386.*netduinoplus2"):
        load_board("nucleo_x")
    assert issubclass(UnknownBoardError, TinyhilError)


def test_a_board_is_a_file(tmp_path):
    (tmp_path / "myboard.json").write_text(json.dumps({
        "name": "My board",
        "tinyhil": {"cpu": "cortex-m4", "clock_hz": 80_000_000, "flash_bytes": 512, "ram_bytes": 256,
                    "uart": {"name": "UART0", "base": "0x4000C000", "baud": 9600}},
    }))
    (tmp_path / "broken.json").write_text("{}")
    assert list_boards(tmp_path) == ["broken", "myboard"]
    b = load_board("myboard", tmp_path)
    assert b.uart.base == 0x4000C000 and b.qemu_machine is None and b.renode_platform is None
    with pytest.raises(UnknownBoardError, match="not a valid tinyhil board manifest"):
        load_board("broken", tmp_path)
