"""Every board file builds with the offline platform, into its own memory map; a new board is a file."""

import json
import shutil

import numpy as np
import pytest
from elftools.elf.elffile import ELFFile
from fake_fw import FAKE_MODEL, fake_inputs, fake_reference, require_build_tools, require_qemu

from harness.boards import list_boards, load_board
from harness.build import build_firmware

pytestmark = pytest.mark.slow


def _vectors(elf):
    with open(elf, "rb") as f:
        ef = ELFFile(f)
        section = ef.get_section_by_name(".isr_vector")
        return section["sh_addr"], memoryview(section.data()).cast("I")


@pytest.mark.parametrize("name", list_boards())
def test_every_board_builds_into_its_memory_map(fake_firmware, name):
    fw = fake_firmware(name)
    board = fw.board
    address, words = _vectors(fw.elf)
    assert address == board.flash.origin
    stack_top, reset = words[0], words[1]
    assert board.ram.origin < stack_top <= board.ram.origin + board.ram.size
    assert board.flash.origin <= reset < board.flash.origin + board.flash.size and reset & 1  # Thumb
    # sane sizes: the application + fake model is a few KB of flash; RAM is the 8 KB stack,
    # the receive buffer (rx_max) and small state
    assert 3_000 < fw.flash_bytes < 16_000
    assert 8192 + board.rx_max < fw.ram_bytes < 8192 + board.rx_max + 16_000
    assert f"HARDWARE: {json.loads(board.manifest.read_text())['build']['mcu'].upper()} " \
           f"{board.clock_hz // 1_000_000}MHz" in fw.log_path.read_text()


def test_kinetis_keeps_its_flash_configuration_field_unsecured(fake_firmware):
    fw = fake_firmware("frdm_k64f")
    address, words = _vectors(fw.elf)
    assert address == 0 and len(words) == 0x410 // 4
    assert list(words[0x400 // 4:]) == [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFE]  # FSEC = 0xFE


def test_a_board_added_as_a_file_alone_builds_and_runs(tmp_path):
    """A copy of netduinoplus2.json under a new name, with less RAM, in a folder of its own: it
    builds into the new memory map and the firmware calls itself by the new name in QEMU."""
    require_build_tools()
    boards = tmp_path / "boards"
    boards.mkdir()
    data = json.loads(load_board("netduinoplus2").manifest.read_text())
    data["name"] = "My STM32F405 board"
    data["tinyhil"]["memory"]["ram"]["size"] = 96 * 1024
    (boards / "my_f405.json").write_text(json.dumps(data))
    board = load_board("my_f405", boards)
    fw = build_firmware(board, FAKE_MODEL, tmp_path / "work")
    _, words = _vectors(fw.elf)
    assert 0x20000000 < words[0] <= 0x20000000 + 96 * 1024
    assert "96KB RAM" in fw.log_path.read_text()
    assert not (boards.parent / "firmware").exists()  # nothing else was written beside the file

    require_qemu()
    from harness.protocol import Device
    from harness.targets import QemuTarget

    with QemuTarget(board, fw.elf, log_dir=tmp_path, max_seconds=60) as target:
        dev = Device(target, timeout=10)
        dev.wait_ready()
        assert dev.identify().board == "my_f405"
        outputs = np.stack([np.frombuffer(s.output, np.int8) for s in dev.run_flash(0, 4)])
        np.testing.assert_array_equal(outputs, fake_reference(fake_inputs()))


def test_a_board_file_with_too_little_flash_does_not_fit(tmp_path):
    require_build_tools()
    boards = tmp_path / "boards"
    boards.mkdir()
    shutil.copy(load_board("nrf52840_dk").manifest, boards / "tiny.json")
    data = json.loads((boards / "tiny.json").read_text())
    data["tinyhil"]["memory"]["flash"]["size"] = 2048
    (boards / "tiny.json").write_text(json.dumps(data))
    from harness.errors import DoesNotFitError

    with pytest.raises(DoesNotFitError, match=r"FLASH: needs \d+ bytes, tiny has 2048"):
        build_firmware(load_board("tiny", boards), FAKE_MODEL, tmp_path / "work")
