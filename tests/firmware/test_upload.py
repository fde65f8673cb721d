"""upload_firmware flashes what was built: the same env, engine, kernels and model, with the board's tool."""

from pathlib import Path

import pytest

from harness.boards import load_board
from harness.build import platformio
from harness.build.firmware import ElfSizes, Firmware
from harness.errors import ToolMissingError


def _firmware(board: str, engine: str, pio_env: str, tmp_path: Path) -> Firmware:
    (tmp_path / "build.log").write_text("")
    return Firmware(elf=tmp_path / "program.elf", board=load_board(board), model_dir=tmp_path / "model",
                    kernels="reference", build_dir=tmp_path / "pio-build", log_path=tmp_path / "build.log",
                    sizes=ElfSizes({}, 0, 0, ""), build_seconds=0.0, toolchain="", engine=engine, pio_env=pio_env)


@pytest.mark.parametrize(("board", "tool"), [("nucleo_l4r5zi", "st-flash"), ("nrf52840_dk", "JLinkExe"),
                                             ("frdm_k64f", "pyocd")])
def test_upload_runs_pio_upload_with_the_build_s_engine_and_board(monkeypatch, tmp_path, board, tool):
    calls = []
    monkeypatch.setattr(platformio.shutil, "which", lambda name: f"/usr/bin/{name}" if name == tool else None)
    monkeypatch.setattr(platformio, "_pio", lambda args, env, *rest: calls.append((args, env)) or 0)
    platformio.upload_firmware(_firmware(board, "tflm", "tinyhil", tmp_path))
    (args, env), = calls
    assert args == ["run", "-e", "tinyhil", "-t", "upload"]
    assert (env["TINYHIL_ENGINE"], env["TINYHIL_KERNELS"], env["TINYHIL_BOARD"]) == ("tflm", "reference", board)
    assert env["TINYHIL_MODEL_DIR"] == str(tmp_path / "model")


def test_upload_names_the_boards_own_tool_when_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(platformio.shutil, "which", lambda name: None)
    with pytest.raises(ToolMissingError, match="JLinkExe not found: nrf52840_dk is flashed over jlink"):
        platformio.upload_firmware(_firmware("nrf52840_dk", "builtin", "tinyhil", tmp_path))


def test_an_official_platform_env_is_uploaded_as_built(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(platformio.shutil, "which", lambda name: None)  # its uploader is a pio package
    monkeypatch.setattr(platformio, "_pio", lambda args, env, *rest: calls.append((args, env)) or 0)
    platformio.upload_firmware(_firmware("netduinoplus2", "tflm", "netduinoplus2_tflm", tmp_path))
    assert calls[0][0] == ["run", "-e", "netduinoplus2_tflm", "-t", "upload"]
    assert calls[0][1]["TINYHIL_ENGINE"] == "tflm"


@pytest.mark.slow
@pytest.mark.parametrize(("board", "tool"), [("stm32f4_discovery", "st-flash"), ("nrf52840_dk", "JLinkExe"),
                                             ("frdm_k64f", "pyocd")])
def test_pio_upload_target_runs_the_boards_tool(fake_firmware, monkeypatch, tmp_path, board, tool):
    """The platform's real `upload` target, with a stand-in for the flashing tool that records its
    arguments (and, for J-Link, the command file it was given)."""
    import os
    import shutil

    if not shutil.which("arm-none-eabi-gcc"):
        pytest.skip("arm-none-eabi-gcc is not installed")
    fw = fake_firmware(board)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "argv.txt"
    fake = bin_dir / tool
    # record each argument on a line, then the content of the argument after -CommanderScript
    fake.write_text(f'#!/bin/sh\nfor a in "$@"; do echo "$a"; done > {record}\n'
                    f'while [ $# -gt 1 ]; do [ "$1" = -CommanderScript ] && cat "$2" >> {record}; shift; done\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    platformio.upload_firmware(fw)
    argv = record.read_text().splitlines()
    build = fw.elf.parent
    if tool == "st-flash":
        assert argv == ["--reset", "write", str(build / "program.bin"), "0x08000000"]
        assert (build / "program.bin").stat().st_size == fw.flash_bytes
    elif tool == "JLinkExe":
        assert "-CommanderScript" in argv and "device nRF52840_xxAA" in argv
        assert f"loadfile {build / 'program.hex'}" in argv and (build / "program.hex").is_file()
    else:
        assert argv == ["load", "--target", "k64f", str(fw.elf)]
