"""Capture what native code writes to a file descriptor (stdout = 1, stderr = 2).

TFLM's C++ runtime, TensorFlow's absl logging and the Keras converter write straight to the
process's file descriptors, past `sys.stdout`/`sys.stderr`, so only redirecting the descriptor
itself catches (or silences) them.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class CapturedText:
    """Filled in when the `capture_fds` block ends: everything written, keyed by descriptor."""

    by_fd: dict[int, str] = field(default_factory=dict)

    def text(self, fd: int) -> str:
        return self.by_fd.get(fd, "")

    @property
    def all(self) -> str:
        return "".join(self.by_fd[fd] for fd in sorted(self.by_fd))


# A descriptor belongs to the whole process: two threads capturing at once (a sweep with --jobs)
# would swap each other's output. One capture at a time; re-entrant for nested captures.
_CAPTURE_LOCK = threading.RLock()


@contextlib.contextmanager
def capture_fds(*fds: int) -> Iterator[CapturedText]:
    """Redirect each descriptor in `fds` to a temporary file for the block, then restore it.

    The captured text is available on the yielded object after the block (also when it raised).
    Captures are serialised across threads.
    """
    with _CAPTURE_LOCK, _capture(*fds) as captured:
        yield captured


@contextlib.contextmanager
def _capture(*fds: int) -> Iterator[CapturedText]:
    captured = CapturedText()
    saved: dict[int, int] = {}
    files = {}
    _flush_python_streams()
    try:
        for fd in fds:
            files[fd] = tempfile.TemporaryFile(mode="w+b")
            saved[fd] = os.dup(fd)
            os.dup2(files[fd].fileno(), fd)
        yield captured
    finally:
        _flush_python_streams()
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        for fd, handle in files.items():
            handle.seek(0)
            captured.by_fd[fd] = handle.read().decode("utf-8", errors="replace")
            handle.close()


def _flush_python_streams() -> None:
    # Text buffered in Python must land on the descriptor it was meant for, not in the capture.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
