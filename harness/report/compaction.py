"""Compaction: many small fragments merged into segments, so reading stays fast.

Size-tiered, as log-structured stores do: an append that finds `COMPACT_AT` loose fragments in a
folder merges them into a level-0 segment, and `FANOUT` segments of one level are merged into one of
the next level. Each row is thus rewritten about log_FANOUT(rows / COMPACT_AT) times over its life,
and a table of N rows is read from at most ~FANOUT segments per level plus COMPACT_AT loose files.
`compact(full=True)` (exports, `tinyhil report`) merges everything into one segment.

A segment is written (durably) before the files it holds are removed, so a compaction cut short
leaves copies, never gaps — readers keep one row per `attempt_id`. Unreadable fragments are left
where they are. A lock file (store_lock.py: an atomic link, with a heartbeat and a stale rule)
keeps two compactions of one folder — on this machine or on others sharing it — from doing the same
work twice; should it fail, nothing is lost, only duplicated until the next compaction.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

from harness.report import fragments
from harness.report.location import runs_folder, samples_folder
from harness.report.store_lock import FolderLock

COMPACT_AT = 64  # loose fragments per folder that make an append compact them
FANOUT = 8  # segments of one level merged into one of the next
TOP_LEVEL = 9  # full compactions and migrated old tables: merged again only by a full compaction
STALE_PARTIAL_S = 3600.0  # a `.partial` this old belongs to a writer that died
_LEVEL = re.compile(rf"^{fragments.SEGMENT_PREFIX}L(\d)-")


def level(path: Path) -> int:
    found = _LEVEL.match(path.name)
    return int(found.group(1)) if found else TOP_LEVEL


def maybe_compact(results_dir: Path) -> None:

    for folder in (runs_folder(results_dir), samples_folder(results_dir)):
        if len(fragments.list_fragments(folder, segments=False)) >= COMPACT_AT:
            compact(results_dir, wait=False)
            return


def compact(results_dir: Path, *, full: bool = False, wait: bool = True) -> int:
    """Merge loose fragments into a level-0 segment and full levels into the next (with `full`:
    everything into one). Returns how many files were merged; 0 when another compaction holds the
    lock and `wait` is off."""

    lock_path = Path(results_dir) / "store" / ".compact.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FolderLock(lock_path)
    if not lock.acquire(wait=wait):
        return 0
    try:
        merged = 0
        for folder, key in ((samples_folder(results_dir), ["attempt_id", "sample"]),
                            (runs_folder(results_dir), ["attempt_id"])):
            if full:
                merged += _merge(folder, fragments.list_fragments(folder), key, TOP_LEVEL)
            else:
                merged += _merge(folder, fragments.list_fragments(folder, segments=False), key, 0)
                for lvl in range(TOP_LEVEL - 1):
                    lock.refresh()  # the heartbeat: a long compaction is not taken for a dead one
                    same = [p for p in fragments.list_fragments(folder, loose=False) if level(p) == lvl]
                    if len(same) >= FANOUT:
                        merged += _merge(folder, same, key, lvl + 1)
            lock.refresh()
            _remove_stale_partials(folder)
        return merged
    finally:
        lock.release()


def _merge(folder: Path, paths: list[Path], key: list[str], into_level: int) -> int:
    if len(paths) < 2:
        return 0
    read, vanished = fragments.read_fragments(paths)
    if vanished:  # another machine compacts this folder now: leave it to it
        return 0
    readable = [path for path, _ in read]
    table = fragments.concat([t for _, t in read])
    if table is None or len(readable) < 2:
        return 0
    table = _unique(table, key)
    name = f"{fragments.SEGMENT_PREFIX}L{into_level}-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
    fragments.write_table_once(table, folder / name)
    for path in readable:
        path.unlink(missing_ok=True)
    fragments.fsync_folder(folder)
    return len(readable)


def _unique(table, key: list[str]):
    if not set(key) <= set(table.column_names):
        return table
    df = table.to_pandas(types_mapper=_keep_types)
    with_id = df["attempt_id"].notna()
    df = df[~(with_id & df.duplicated(key))]
    import pyarrow as pa

    return pa.Table.from_pandas(df, preserve_index=False)


def _keep_types(arrow_type):
    import pandas as pd
    import pyarrow as pa

    return {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype(), pa.string(): pd.StringDtype()}.get(arrow_type)


def _remove_stale_partials(folder: Path) -> None:
    if not folder.is_dir():
        return
    now = time.time()
    for partial in folder.glob(f".*{fragments.PARTIAL_SUFFIX}"):
        try:
            if now - partial.stat().st_mtime > STALE_PARTIAL_S:
                partial.unlink()
        except OSError:
            pass
