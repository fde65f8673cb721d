"""Build tools in a process group of their own: a terminal's Ctrl-C does not reach them, and an
interruption of the thread waiting on one kills its whole group (grandchildren too)."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from harness.build.own_group import run_in_own_group

# A child that starts a grandchild, prints the grandchild's pid, and waits for it.
TREE = ("import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "print(p.pid, flush=True); p.wait()")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"  # a zombie has exited


def test_it_runs_in_a_session_of_its_own():
    done = run_in_own_group([sys.executable, "-c", "import os; print(os.getsid(0) == os.getpid())"],
                            stdout=subprocess.PIPE, text=True, timeout=30)
    assert done.returncode == 0 and done.stdout.strip() == "True"


def test_an_interruption_kills_the_whole_group(tmp_path):
    out = tmp_path / "pid"
    timer = threading.Timer(2.0, lambda: signal.raise_signal(signal.SIGINT))  # Ctrl-C, to this process
    timer.start()
    started = time.monotonic()
    with open(out, "w") as f, pytest.raises(KeyboardInterrupt):
        run_in_own_group([sys.executable, "-c", TREE], stdout=f, timeout=60)
    assert time.monotonic() - started < 30
    grandchild = int(out.read_text().split()[0])
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild), "the build's own children must die with it"


def test_a_timeout_kills_the_whole_group(tmp_path):
    out = tmp_path / "pid"
    with open(out, "w") as f, pytest.raises(subprocess.TimeoutExpired):
        run_in_own_group([sys.executable, "-c", TREE], stdout=f, timeout=2)
    grandchild = int(out.read_text().split()[0])
    time.sleep(0.2)
    assert not _alive(grandchild)
