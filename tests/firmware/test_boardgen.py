"""What the build takes from a board file: defines, the linker MEMORY, the upload command."""

import pytest

from harness.boards import list_boards, load_board
from harness.build.boardgen import UPLOAD_TOOLS, board_defines, linker_memory, parse_pin, upload_command
from harness.errors import UnknownBoardError


@pytest.mark.parametrize(("name", "expected"), [("PA9", (0, 9)), ("pg8", (6, 8)), ("P0.06", (0, 6)),
                                                ("P1.10", (1, 10)), ("PTB17", (1, 17))])
def test_pin_names_as_the_manuals_spell_them(name, expected):
    assert parse_pin(name) == expected


def test_a_pin_name_that_is_none_is_refused():
    with pytest.raises(UnknownBoardError, match="pin 'GPIO9' is not spelled like"):
        parse_pin("GPIO9")


def test_defines_carry_the_board_files_facts():
    defines = dict((d, None) if isinstance(d, str) else d for d in board_defines(load_board("nucleo_f446re")))
    assert defines["TH_CPU_HZ"] == "180000000u" and defines["TH_BOARD_NAME"] == "nucleo_f446re"
    assert defines["TH_UART_BASE"] == "0x40004400u" and "TH_UART_USART2" in defines
    assert (defines["TH_UART_TX_PORT"], defines["TH_UART_TX_PIN"], defines["TH_UART_AF"]) == ("0", "2", "7")
    assert "TH_SOC_STM32F4" in defines and "TH_CLOCK_SOURCE_HSI" in defines and defines["TH_CLOCK_OVERDRIVE"] == "1u"
    nd = dict((d, None) if isinstance(d, str) else d for d in board_defines(load_board("netduinoplus2")))
    assert nd["TH_CLOCK_HSE_HZ"] == "25000000u" and nd["TH_RX_MAX"] == "4096" and "TH_NO_DWT" not in nd


def test_linker_memory_is_the_board_files_memory():
    text = linker_memory(load_board("nrf52840_dk"))
    assert "FLASH (rx)  : ORIGIN = 0x00000000, LENGTH = 1048576" in text
    assert "RAM   (rwx) : ORIGIN = 0x20000000, LENGTH = 262144" in text
    assert text.rstrip().endswith("INCLUDE tinyhil_sections.ld") and "__th_flash_config_offset" not in text
    assert "__th_flash_config_offset = 0x400;" in linker_memory(load_board("frdm_k64f"))


def test_each_physical_board_has_an_upload_command_for_its_protocol(tmp_path):
    for name in list_boards():
        board = load_board(name)
        if not board.physical:
            continue
        argv, script = upload_command(board, "fw.elf", "fw.bin", "fw.hex", str(tmp_path / "s.jlink"))
        assert argv[0] == UPLOAD_TOOLS[board.upload_protocol]
        if board.upload_protocol == "stlink":
            assert argv[-2:] == ["fw.bin", f"0x{board.flash.origin:08X}"] and script is None
        elif board.upload_protocol == "jlink":
            assert argv[-1] == str(tmp_path / "s.jlink") and "loadfile fw.hex" in script
        else:
            assert argv[1:4] == ["load", "--target", argv[3]] and argv[-1] == "fw.elf"


def test_upload_protocols_of_the_boards():
    protocols = {name: load_board(name).upload_protocol for name in list_boards()}
    assert protocols["netduinoplus2"] == "stlink" and protocols["nucleo_l4r5zi"] == "stlink"
    assert protocols["nrf52840_dk"] == "jlink" and protocols["frdm_k64f"] == "cmsis-dap"
    assert protocols["mps2_an386"] is None
