"""Build the firmware for a board and a generated model with PlatformIO (`pio run -e tinyhil`).

The board reaches the build as TINYHIL_BOARD (+ PLATFORMIO_BOARDS_DIR, the folder of its file; the
one generic env reads it, firmware/tools/board_config.py turns the file into defines and a linker
script), the model directory as TINYHIL_MODEL_DIR (firmware/tools/model_sources.py), and every
build gets its own PLATFORMIO_BUILD_DIR inside work_dir, so builds of different models or kernel
choices never share objects.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from harness import places
from harness.boards import Board, load_board
from harness.build.boardgen import UPLOAD_TOOLS
from harness.build.firmware import Firmware, check_fits, read_elf_sizes
from harness.build.own_group import run_in_own_group
from harness.engines.base import Engine, EngineBuild
from harness.errors import BuildError, DoesNotFitError, TinyhilError, ToolMissingError
from harness.settings import Settings

PROTOCOLS = ("tinyhil", "mlperf")  # the framed protocol (main.c), or the MLPerf Tiny runner's (mlperf.c)


def check_protocol(protocol: str) -> str:
    if protocol not in PROTOCOLS:
        raise TinyhilError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    return protocol


def default_engine() -> Engine:
    """tinyhil's builtin engine, what a build without an engine named builds. (The build stage takes
    Engine objects; looking engines up by name is the registry's job, above it.)"""
    from harness.engines.builtin import BuiltinEngine

    return BuiltinEngine()


TOOLCHAIN_GCC = "arm-none-eabi-gcc"
GENERIC_ENV = "tinyhil"  # the one env of platformio.ini that builds any board file
LOG_TAIL_LINES = 30
_OVERFLOW = re.compile(r"region [`']?(\w+)'? overflowed by (\d+) bytes")


def check_tools() -> None:
    """Raise ToolMissingError naming what is missing to build firmware."""
    if not shutil.which(TOOLCHAIN_GCC):
        raise ToolMissingError(
            f"{TOOLCHAIN_GCC} not found: install the GNU Arm toolchain "
            "(Debian: apt install gcc-arm-none-eabi libnewlib-arm-none-eabi)"
        )
    if importlib.util.find_spec("platformio") is None:
        raise ToolMissingError("PlatformIO not found: pip install platformio==6.2.0")


def _pio(args: list[str], env: dict, log_path: Path, timeout: float, project_dir: Path) -> int:
    with open(log_path, "ab") as log:
        log.write(("$ pio " + " ".join(args) + "\n").encode())
        log.flush()
        try:
            return run_in_own_group(  # a terminal's Ctrl-C does not kill it under a sweep's other runs
                [sys.executable, "-m", "platformio", *args, "-d", str(project_dir)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, timeout=timeout,
            ).returncode  # fmt: skip
        except subprocess.TimeoutExpired as e:
            raise BuildError(f"PlatformIO took more than {timeout:g} s; log: {log_path}") from e


def _tail(log_path: Path) -> str:
    lines = log_path.read_text(errors="replace").splitlines()
    return "\n".join(lines[-LOG_TAIL_LINES:])


def _describe_overflow(board: Board, overflow: list[tuple[str, str]]) -> str:
    """Linker 'region X overflowed by N bytes' as needed vs available (the regions are the board's)."""
    available = {"FLASH": board.flash_bytes, "RAM": board.ram_bytes}
    parts = []
    for region, excess in dict(overflow).items():
        have = available.get(region.upper())
        if have is None:
            parts.append(f"{region} overflowed by {excess} bytes")
        else:
            parts.append(f"{region}: needs {have + int(excess)} bytes, {board.name} has {have} "
                         f"(over by {excess})")
    return "; ".join(parts)


def _build_env(board: Board, model_dir: Path, kernels: str, build_dir: Path, firmware_engine: str,
               engine_build: EngineBuild, protocol: str = "tinyhil") -> dict:
    env = dict(os.environ)  # the build's own environment: PlatformIO and the compilers inherit the user's
    env["TINYHIL_ENGINE"] = firmware_engine
    env.update(engine_build.env)  # how the engine's sources enter the build (e.g. TINYHIL_TFLM_TREE)
    env.update(
        TINYHIL_BOARD=board.name,
        PLATFORMIO_BOARDS_DIR=str(board.boards_dir),
        TINYHIL_MODEL_DIR=str(model_dir),
        TINYHIL_KERNELS=kernels,
        TINYHIL_PROTOCOL=protocol,
        PLATFORMIO_BUILD_DIR=str(build_dir),
        PLATFORMIO_SETTING_ENABLE_TELEMETRY="No",
        PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL="9999",
        PLATFORMIO_NO_ANSI="true",
    )
    return env


def build_firmware(
    board: Board | str,
    model_dir: Path,
    work_dir: Path,
    *,
    kernels: str = "optimized",
    engine: Engine | None = None,
    protocol: str = "tinyhil",
    project_dir: Path | None = None,
    timeout: float = 900.0,
    settings: Settings | None = None,
) -> Firmware:
    """Build the firmware with the model in model_dir; raise BuildError or DoesNotFitError.

    The engine prepares what it needs first (the TFLM engine its library, with its own timeout from
    `settings`, default an hour, and progress on stderr), so `timeout` bounds the firmware build alone.
    `settings` (default: tinyhil's, nothing from the environment) name the user cache, where an
    installed tinyhil stages its project, and what the engine needs (the TFLM trees)."""
    settings = settings or Settings()
    board = load_board(board) if isinstance(board, str) else board
    engine = engine or default_engine()
    if not engine.builds_firmware:
        raise TinyhilError(f"the {engine.name} engine builds no firmware")
    kernels = engine.resolve_kernels(kernels)
    check_protocol(protocol)
    model_dir = Path(model_dir).resolve()
    for name in ("model.c", "data.c"):
        if not (model_dir / name).is_file():
            raise BuildError(f"{model_dir} has no {name}: not a generated model directory")
    check_tools()
    work_dir = Path(work_dir).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    build_dir = work_dir / "pio-build"
    log_path = work_dir / "build.log"
    log_path.write_text("")

    engine_build = engine.prepare_build(board, kernels, model_dir, settings)
    started = time.monotonic()
    env = _build_env(board, model_dir, kernels, build_dir, engine.firmware_engine, engine_build, protocol)
    pio_env = GENERIC_ENV
    project_dir = Path(project_dir) if project_dir is not None else places.build_project_dir(settings.cache_dir)
    code = _pio(["run", "-e", pio_env], env, log_path, timeout, project_dir)
    seconds = time.monotonic() - started
    if code != 0:
        log = log_path.read_text(errors="replace")
        overflow = _OVERFLOW.findall(log)
        if overflow:
            raise DoesNotFitError(f"firmware does not fit the board; {_describe_overflow(board, overflow)}; "
                                  f"log: {log_path}")
        raise BuildError(f"firmware build for {board.name} failed (log: {log_path}):\n{_tail(log_path)}")

    # The project-local platform names its ELF program.elf, official platforms firmware.elf.
    candidates = [build_dir / pio_env / name for name in ("program.elf", "firmware.elf")]
    elf = next((path for path in candidates if path.is_file()), candidates[0])
    if not elf.is_file():
        raise BuildError(f"PlatformIO reported success but {elf} is missing; log: {log_path}")
    sizes = read_elf_sizes(elf)
    check_fits(sizes, board)
    return Firmware(
        elf=elf, board=board, model_dir=model_dir, kernels=kernels, build_dir=build_dir, log_path=log_path,
        sizes=sizes, build_seconds=round(seconds, 2), toolchain=sizes.toolchain, platformio=_pio_version(),
        engine=engine.name, firmware_engine=engine.firmware_engine, pio_env=pio_env, engine_build=engine_build,
        protocol=protocol, project_dir=project_dir,
    )  # fmt: skip


def _pio_version() -> str:
    try:
        from platformio import __version__
    except ImportError:
        return ""
    return f"PlatformIO {__version__}"


def upload_firmware(firmware: Firmware, *, project_dir: Path | None = None, timeout: float = 300.0) -> None:
    """Flash a physical board with `pio run -e <env> -t upload`: the env, engine, kernels and model
    the firmware was built with, and the board's upload protocol (its manifest's upload.protocol)."""
    board = firmware.board
    if not board.physical:
        raise TinyhilError(f"board {board.name!r} is emulator-only and cannot be flashed")
    tool = UPLOAD_TOOLS.get(board.upload_protocol)
    if tool is None:
        raise TinyhilError(f"board {board.name!r}: upload protocol {board.upload_protocol!r} is none of "
                           f"{', '.join(UPLOAD_TOOLS)}")
    # an official platform (a `<board>_<engine>` env) brings its own uploader package
    if firmware.pio_env == GENERIC_ENV and not shutil.which(tool):
        raise ToolMissingError(f"{tool} not found: {board.name} is flashed over {board.upload_protocol} "
                               f"with {tool} ({_INSTALL_HINT[tool]})")
    env = _build_env(board, firmware.model_dir, firmware.kernels, firmware.build_dir,
                     firmware.firmware_engine or firmware.engine, firmware.engine_build, firmware.protocol)
    project_dir = Path(project_dir) if project_dir is not None else firmware.project_dir or places.source_root()
    code = _pio(["run", "-e", firmware.pio_env, "-t", "upload"], env, firmware.log_path, timeout, project_dir)
    if code != 0:
        raise BuildError(f"uploading to {board.name} failed (log: {firmware.log_path}):\n"
                         f"{_tail(firmware.log_path)}")


_INSTALL_HINT = {
    "st-flash": "Debian: apt install stlink-tools",
    "JLinkExe": "SEGGER J-Link Software Pack from segger.com",
    "pyocd": "pip install pyocd",
}
