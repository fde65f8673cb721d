"""The fragment folders of the results store: Parquet files written once (`durable.write_once`),
listed, read (an unreadable one named and skipped) and unioned."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from harness.report.durable import (  # noqa: F401  (re-exported: the store's one place for these)
    PARTIAL_SUFFIX,
    SEGMENT_PREFIX,
    UnreadableFragmentWarning,
    fsync_folder,
    warn_unreadable,
    write_once,
)


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
