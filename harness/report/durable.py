"""Write-once files, with the standard library only (so the results location can be checked before
pandas and pyarrow are imported): into a hidden `.partial` name in the target folder, flushed to
disk (fsync), hard-linked to the final name — which fails when that name exists, so nothing is ever
overwritten — and the folder entry flushed too. Readers list `*.parquet` only, so a writer killed at
any point leaves either nothing or a whole file.
"""

from __future__ import annotations

import errno
import os
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path

SEGMENT_PREFIX = "seg-"  # a compacted file (many attempts); loose fragments hold one append each
PARTIAL_SUFFIX = ".partial"


class UnreadableFragmentWarning(UserWarning):
    """A fragment of the results store could not be read; it is skipped and left as it is."""


_warned: set[Path] = set()


def fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_once(path: Path, write: Callable[[Path], None]) -> bool:
    """Create `path` with `write(tmp)`, durably and atomically. False when `path` already exists
    (written before, e.g. by an earlier try of the same attempt): it is left untouched."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}{PARTIAL_SUFFIX}")
    try:
        write(partial)
        fd = os.open(partial, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(partial, path)
        except FileExistsError:
            return False
        except OSError as e:  # a file system without hard links: rename, after a check
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            if path.exists():
                return False
            os.rename(partial, path)
        fsync_folder(path.parent)
        return True
    finally:
        partial.unlink(missing_ok=True)


def warn_unreadable(path: Path, error: BaseException) -> None:
    """Name an unreadable fragment once per process (a sweep reads the table many times)."""
    if path in _warned:
        return
    _warned.add(path)
    warnings.warn(f"results store: skipping unreadable fragment {path} ({type(error).__name__}: {error}); "
                  "it is left as it is", UnreadableFragmentWarning, stacklevel=3)
