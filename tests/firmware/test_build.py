"""PlatformIO builds of the real firmware, read back with pyelftools and cross-checked with size."""

import dataclasses
import re
import shutil
import subprocess

import pytest
from fake_fw import BOARDS, FAKE_MODEL, require_build_tools

from harness.boards import load_board
from harness.build import build_firmware, check_fits, read_elf_sizes
from harness.errors import BuildError, DoesNotFitError, TinyhilError, ToolMissingError

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("board", BOARDS)
def test_build_gives_an_elf_with_sizes(fake_firmware, board):
    fw = fake_firmware(board)
    assert fw.elf.is_file() and fw.board.name == board and fw.kernels == "optimized"
    assert {".isr_vector", ".text", ".stack", ".bss"} <= set(fw.sections)
    assert fw.sections[".stack"] == 8192
    # flash = everything with contents (code, constants, .data image); RAM = writable sections
    expected_flash = sum(v for k, v in fw.sections.items() if k not in (".stack", ".bss"))
    assert fw.flash_bytes == expected_flash
    assert fw.ram_bytes == sum(v for k, v in fw.sections.items() if k in (".stack", ".bss", ".data"))
    assert "12." in fw.toolchain or "GCC" in fw.toolchain
    assert fw.log_path.read_text().count("SUCCESS") >= 1
    # arm-none-eabi-size -A reads the same section table
    out = subprocess.run(["arm-none-eabi-size", "-A", "-d", str(fw.elf)], capture_output=True, text=True,
                         check=True).stdout
    size_table = {p[0]: int(p[1]) for p in (line.split() for line in out.splitlines()) if len(p) == 3
                  and p[1].isdigit()}
    for name, size in fw.sections.items():
        assert size_table[name] == size


def test_vector_table_points_into_flash(fake_firmware):
    from elftools.elf.elffile import ELFFile

    fw = fake_firmware("netduinoplus2")
    with open(fw.elf, "rb") as f:
        ef = ELFFile(f)
        vectors = ef.get_section_by_name(".isr_vector")
        assert vectors["sh_addr"] == 0x08000000
        words = memoryview(vectors.data()).cast("I")
        assert 0x20000000 < words[0] <= 0x20000000 + 128 * 1024  # initial SP in SRAM
        assert 0x08000000 <= words[1] < 0x08100000 and words[1] & 1  # Thumb reset handler in flash


def test_broken_model_is_a_build_error_with_the_log_tail(tmp_path):
    require_build_tools()
    model = tmp_path / "model"
    shutil.copytree(FAKE_MODEL, model)
    (model / "model.c").write_text((model / "model.c").read_text() + "\nthis is not C;\n")
    with pytest.raises(BuildError, match="(?s)failed.*error") as info:
        build_firmware("mps2_an386", model, tmp_path / "work")
    assert str(tmp_path / "work" / "build.log") in str(info.value)


def test_oversized_model_does_not_fit(tmp_path):
    require_build_tools()
    model = tmp_path / "model"
    shutil.copytree(FAKE_MODEL, model)
    # a 200 KB arena cannot fit the 128 KB of the STM32F405
    src = (model / "model.c").read_text().replace("th_arena[64 + TH_ARENA_GUARD_BYTES]", "th_arena[200 * 1024]")
    (model / "model.c").write_text(src)
    with pytest.raises(DoesNotFitError, match=r"RAM: needs (\d+) bytes, netduinoplus2 has 131072") as info:
        build_firmware("netduinoplus2", model, tmp_path / "work")
    needed = int(re.search(r"needs (\d+) bytes", str(info.value)).group(1))
    assert needed > 200 * 1024  # the arena alone, plus the firmware's own buffers and stack


def test_check_fits_names_needed_and_available(fake_firmware):
    fw = fake_firmware("mps2_an386")
    nd = load_board("netduinoplus2")
    small = dataclasses.replace(nd, ram=dataclasses.replace(nd.ram, size=1000))
    with pytest.raises(DoesNotFitError, match=f"RAM: needs {fw.ram_bytes} bytes, netduinoplus2 has 1000"):
        check_fits(read_elf_sizes(fw.elf), small)


def test_missing_toolchain_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no arm-none-eabi-gcc on it
    with pytest.raises(ToolMissingError, match="arm-none-eabi-gcc not found"):
        build_firmware("mps2_an386", FAKE_MODEL, tmp_path / "work")


def test_bad_arguments(tmp_path):
    with pytest.raises(TinyhilError, match="unknown kernels"):
        build_firmware("mps2_an386", FAKE_MODEL, tmp_path, kernels="fastest")
    with pytest.raises(BuildError, match="no model.c"):
        build_firmware("mps2_an386", tmp_path, tmp_path / "work")


def test_upload_needs_a_physical_board_and_its_tool(fake_firmware, monkeypatch, tmp_path):
    from harness.build import upload_firmware

    with pytest.raises(TinyhilError, match="emulator-only"):
        upload_firmware(fake_firmware("mps2_an386"))
    netduino = fake_firmware("netduinoplus2")
    monkeypatch.setenv("PATH", str(tmp_path))  # no st-flash on it
    with pytest.raises(ToolMissingError, match="st-flash not found: netduinoplus2 is flashed over stlink"):
        upload_firmware(netduino)
