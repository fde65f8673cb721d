"""Build the firmware's parsers for the host with AddressSanitizer and UBSan, and run them:
tests/link/fuzz_fw.c (the framed protocol's parser and command decoder) and fuzz_mlperf.c (the
MLPerf runner protocol's command parser)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMON = ("tests/link/host_stubs.c", "tests/fixtures/fake_model/model.c", "tests/fixtures/fake_model/data.c")
# the framed protocol's parser and command decoder, and the MLPerf runner protocol's parser
SOURCES = {
    "framed": ("tests/link/fuzz_fw.c", "firmware/src/protocol.c", "firmware/src/commands.c", *COMMON),
    "mlperf": ("tests/link/fuzz_mlperf.c", "firmware/src/mlperf.c", *COMMON),
}
DEFINES = {"framed": (), "mlperf": ("-DTH_PROTOCOL_MLPERF", "-DTH_MLPERF_HOST")}
FLAGS = ("-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1", "-fsanitize=address,undefined",
         "-fno-sanitize-recover=all", "-fno-omit-frame-pointer")


def compiler() -> str | None:
    return shutil.which("gcc")


def build(out: Path, parser: str = "framed") -> Path:
    cmd = [compiler(), *FLAGS, *DEFINES[parser], "-I", str(ROOT / "firmware/src"), "-I", str(ROOT / "firmware/include"),
           *(str(ROOT / s) for s in SOURCES[parser]), "-o", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out


def run(exe: Path, frames: int, seed: int, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, ASAN_OPTIONS="abort_on_error=0:detect_leaks=1", UBSAN_OPTIONS="print_stacktrace=1")
    return subprocess.run([str(exe), str(frames), str(seed)], capture_output=True, text=True, timeout=timeout, env=env)
