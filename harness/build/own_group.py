"""Build tools run in a process group of their own, so a terminal's Ctrl-C reaches the harness only.

A sweep with `--jobs N` runs builds in worker threads; Ctrl-C at the terminal sends SIGINT to the
whole foreground process group, which would kill those builds and store their runs as failed
builds. In their own group they go on, and the runs in progress finish and are stored, as the sweep
promises; the thread that waits on a build and is itself interrupted (`--jobs 1`, or the main
thread) kills the build's whole group — compiler children included — before passing the
interruption on. A timeout kills the group too.
"""

from __future__ import annotations

import os
import signal
import subprocess


def run_in_own_group(cmd: list[str], *, timeout: float | None = None, **popen) -> subprocess.CompletedProcess:
    """`subprocess.run` in a new session; TimeoutExpired and any interruption kill the whole group."""
    with subprocess.Popen(cmd, start_new_session=True, **popen) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except BaseException:
            kill_group(proc)
            raise
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # already gone
    proc.wait()
