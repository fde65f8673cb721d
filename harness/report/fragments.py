"""Write-once files and the fragment folders of the results store.

A fragment is one Parquet file written once and never modified: into a hidden `.partial` name in
its folder, flushed to disk (fsync), then hard-linked to its final name — which fails when that name
exists, so nothing is ever overwritten — and the folder's entry flushed too. A reader lists
`*.parquet` only, so a writer killed at any point leaves either nothing or a whole file.
"""

from __future__ import annotations

import errno
import os
import uuid
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

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


def write_table_once(table: pa.Table, path: Path) -> bool:
    return write_once(path, lambda tmp: pq.write_table(table, tmp))


def list_fragments(folder: Path, *, segments: bool = True, loose: bool = True) -> list[Path]:
    """The folder's fragment files in name order (segments first: `seg-` sorts before hex names)."""
    if not folder.is_dir():
        return []
    out = []
    with os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            if not name.endswith(".parquet") or name.startswith("."):
                continue
            if (segments if name.startswith(SEGMENT_PREFIX) else loose):
                out.append(folder / name)
    return sorted(out)


def warn_unreadable(path: Path, error: BaseException) -> None:
    """Name an unreadable fragment once per process (a sweep reads the table many times)."""
    if path in _warned:
        return
    _warned.add(path)
    warnings.warn(f"results store: skipping unreadable fragment {path} ({type(error).__name__}: {error}); "
                  "it is left as it is", UnreadableFragmentWarning, stacklevel=3)


def read_fragments(paths: Iterable[Path], columns: list[str] | None = None
                   ) -> tuple[list[tuple[Path, pa.Table]], bool]:
    """((path, table) of each readable fragment, whether one vanished while reading: merged by a
    compaction, so the caller lists the folder again). An unreadable fragment is warned about and
    skipped."""
    tables = []
    for path in paths:
        try:
            table = pq.read_table(path, columns=columns) if columns is None else _read_columns(path, columns)
        except FileNotFoundError:
            return tables, True
        except (pa.ArrowException, OSError, ValueError) as e:
            warn_unreadable(path, e)
            continue
        tables.append((path, table))
    return tables, False


def _read_columns(path: Path, columns: list[str]) -> pa.Table:
    present = set(pq.read_schema(path).names)
    return pq.read_table(path, columns=[c for c in columns if c in present])


def read_folder(folder: Path, columns: list[str] | None = None) -> list[pa.Table]:
    """Every readable fragment of a folder (listed again when a compaction merged fragments under
    the reader's feet)."""
    for _ in range(5):
        read, vanished = read_fragments(list_fragments(folder), columns)
        if not vanished:
            return [table for _, table in read]
    raise OSError(f"the fragments of {folder} kept changing while being read")


def concat(tables: list[pa.Table]) -> pa.Table | None:
    """Fragments as one table: columns missing in some are nulls, types promoted where they differ."""
    if not tables:
        return None
    tables = [t.replace_schema_metadata(None) for t in tables]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # an extra column typed differently in two fragments
        return pa.concat_tables([_as_strings(t) for t in tables], promote_options="permissive")


def _as_strings(table: pa.Table) -> pa.Table:
    return pa.table({name: table[name].cast(pa.string()) if not pa.types.is_null(table[name].type) else table[name]
                     for name in table.column_names})
