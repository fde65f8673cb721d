"""Build tests/link/fuzz_fw.c (the firmware's parser and command decoder on the host) with
AddressSanitizer and UBSan, and run it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("tests/link/fuzz_fw.c", "firmware/src/protocol.c", "firmware/src/commands.c",
           "tests/fixtures/fake_model/model.c", "tests/fixtures/fake_model/data.c")
FLAGS = ("-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1", "-fsanitize=address,undefined",
         "-fno-sanitize-recover=all", "-fno-omit-frame-pointer")


def compiler() -> str | None:
    return shutil.which("gcc")


def build(out: Path) -> Path:
    cmd = [compiler(), *FLAGS, "-I", str(ROOT / "firmware/src"), "-I", str(ROOT / "firmware/include"),
           *(str(ROOT / s) for s in SOURCES), "-o", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out


def run(exe: Path, frames: int, seed: int, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, ASAN_OPTIONS="abort_on_error=0:detect_leaks=1", UBSAN_OPTIONS="print_stacktrace=1")
    return subprocess.run([str(exe), str(frames), str(seed)], capture_output=True, text=True, timeout=timeout, env=env)
