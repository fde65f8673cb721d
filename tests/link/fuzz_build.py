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
DEFINES = {"framed": (), "mlperf": ("-DTH_PROTOCOL_MLPERF", "-DTH_MLPERF_HOST", "-DTH_MLPERF_MAX_ITERATIONS=64")}
FLAGS = ("-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1", "-fsanitize=address,undefined",
         "-fno-sanitize-recover=all", "-fno-omit-frame-pointer")


def compiler() -> str | None:
    return shutil.which("gcc")


def build(out: Path, parser: str = "framed", cc: str | None = None, extra: tuple[str, ...] = ()) -> Path:
    cmd = [cc or compiler(), *FLAGS, *extra, *DEFINES[parser], "-I", str(ROOT / "firmware/src"),
           "-I", str(ROOT / "firmware/include"), *(str(ROOT / s) for s in SOURCES[parser]), "-o", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out


def libfuzzer_compiler() -> str | None:
    """clang when it links -fsanitize=fuzzer (Debian: apt install clang libfuzzer-14-dev), else None."""
    clang = shutil.which("clang")
    if not clang:
        return None
    probe = subprocess.run([clang, "-fsanitize=fuzzer", "-x", "c", "-", "-o", os.devnull], capture_output=True,
                           input="#include <stdint.h>\n#include <stddef.h>\n"
                                 "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }\n", text=True)
    return clang if probe.returncode == 0 else None


def build_libfuzzer(out: Path, parser: str) -> Path:
    """The same parser with libFuzzer's coverage-guided driver (its entry point in the fuzz file)."""
    # (the seeded generator goes unused under libFuzzer's own driver)
    return build(out, parser, libfuzzer_compiler(), ("-fsanitize=fuzzer", "-DTH_LIBFUZZER", "-Wno-unused-function"))


def run_libfuzzer(exe: Path, runs: int, seed: int, timeout: float = 900) -> subprocess.CompletedProcess:
    """`runs` inputs of up to 512 bytes; libFuzzer exits non-zero on a crash, a sanitizer report or
    a failed property (abort), and its last line then names the input it saved."""
    env = dict(os.environ, ASAN_OPTIONS="abort_on_error=0:detect_leaks=1", UBSAN_OPTIONS="print_stacktrace=1")
    return subprocess.run([str(exe), f"-runs={runs}", f"-seed={seed}", "-max_len=512", "-timeout=10",
                           f"-artifact_prefix={exe.parent}/"], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=exe.parent)


def run(exe: Path, frames: int, seed: int, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, ASAN_OPTIONS="abort_on_error=0:detect_leaks=1", UBSAN_OPTIONS="print_stacktrace=1")
    return subprocess.run([str(exe), str(frames), str(seed)], capture_output=True, text=True, timeout=timeout, env=env)
