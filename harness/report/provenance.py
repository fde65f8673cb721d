"""Provenance of a run: which code, tools and machine produced a results row."""

from __future__ import annotations

import functools
import re
import shutil
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def provenance(board: str | None = None, clock_hz: int | None = None) -> dict[str, object]:
    """Provenance columns for a row produced now (tool versions are None when a tool is missing)."""
    return {
        "board": board,
        "clock_hz": clock_hz,
        "toolchain_version": toolchain_version(),
        "qemu_version": qemu_version(),
        **code_provenance(),
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


def code_provenance(workdir: Path | None = None) -> dict[str, object]:
    """Which tinyhil ran (its version, and its commit when it runs from a checkout) and the commit of the
    user's repository the run was made in (the git repository holding the working folder), kept apart."""
    repo = git_state(Path(workdir) if workdir is not None else Path.cwd())
    return {"tinyhil_version": tinyhil_version(), "tinyhil_commit": tinyhil_commit(),
            "repo_commit": repo[0] if repo else None, "repo_dirty": repo[1] if repo else None}


@functools.cache
def tinyhil_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tinyhil")
    except PackageNotFoundError:  # run from a checkout that was never pip-installed
        return "unknown"


@functools.cache
def tinyhil_commit() -> str | None:
    """The commit of tinyhil's own checkout (`-dirty` when tracked files differ), or None when tinyhil is
    installed from a wheel (its version says which it is)."""
    from harness import places

    if not places.is_checkout():
        return None
    state = git_state(_PACKAGE_DIR.parent)
    if state is None or not (_PACKAGE_DIR.parent / ".git").exists():  # a checkout inside someone else's repo
        return None
    return state[0] + ("-dirty" if state[1] else "")


def git_state(folder: Path) -> tuple[str, bool] | None:
    """(commit, dirty) of the git repository holding `folder`; None outside git. Dirty: tracked files differ."""
    sha = _first_line("git", "-C", str(folder), "rev-parse", "HEAD")
    if not sha:
        return None
    status = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
                            capture_output=True, text=True)
    return sha, bool(status.stdout.strip())


def _first_line(tool: str, *args: str) -> str | None:
    if shutil.which(tool) is None:
        return None
    try:
        result = subprocess.run([tool, *args], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = result.stdout.strip().splitlines()
    return lines[0].strip() if result.returncode == 0 and lines else None
