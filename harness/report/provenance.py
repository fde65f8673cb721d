"""Provenance of a run: which code, tools and machine produced a results row."""

from __future__ import annotations

import functools
import re
import shutil
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[2]


def provenance(board: str | None = None, clock_hz: int | None = None) -> dict[str, object]:
    """Provenance columns for a row produced now (tool versions are None when a tool is missing)."""
    return {
        "board": board,
        "clock_hz": clock_hz,
        "toolchain_version": toolchain_version(),
        "qemu_version": qemu_version(),
        "git_sha": git_sha(),
        "timestamp": utc_timestamp(),
        "host": socket.gethostname(),
    }


def utc_timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@functools.cache
def toolchain_version() -> str | None:
    """`arm-none-eabi-gcc 12.2.1` style text, or None when the compiler is not installed."""
    version = _first_line("arm-none-eabi-gcc", "-dumpversion")
    return f"arm-none-eabi-gcc {version}" if version else None


@functools.cache
def qemu_version() -> str | None:
    """`qemu-system-arm 7.2.x` style text, or None when QEMU is not installed."""
    line = _first_line("qemu-system-arm", "--version")
    match = re.search(r"version (\S+)", line or "")
    return f"qemu-system-arm {match.group(1)}" if match else None


def git_sha(repo: Path = _REPO_ROOT) -> str | None:
    """Commit of the checkout, with `-dirty` when tracked files differ from it; None outside git."""
    sha = _first_line("git", "-C", str(repo), "rev-parse", "HEAD")
    if not sha:
        return None
    status = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                            capture_output=True, text=True)
    return sha + ("-dirty" if status.stdout.strip() else "")


def _first_line(tool: str, *args: str) -> str | None:
    if shutil.which(tool) is None:
        return None
    try:
        result = subprocess.run([tool, *args], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = result.stdout.strip().splitlines()
    return lines[0].strip() if result.returncode == 0 and lines else None
