"""The results store: append-only Parquet fragments, one per run attempt, read as one table.

Layout of a results folder (`results/README.md` has the full story):
  store/runs/<attempt_id>.parquet     the attempt's row, written once (fsync, then link: never overwritten)
  store/samples/<attempt_id>.parquet  its per-sample series, written just before the row
  store/*/seg-*.parquet               compacted fragments (many attempts each)
  results.csv, results.parquet, samples.parquet   exports (`export_tables`, `tinyhil report`)

Why Parquet fragments rather than an embedded database (DuckDB, SQLite): every writer — a process, a
thread, a Dask worker on another machine sharing the folder — creates its own file with no lock and
no server, which a rename/link makes atomic on local and network file systems alike; a database file
needs one writer at a time, and its locks do not hold over NFS. A crash leaves whole files or none,
and pyarrow (already a dependency) reads them. Appending costs one small file whatever the table's
size; reading unions the fragments, and compaction keeps their number bounded.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from harness.report import fragments, legacy
from harness.report.frame import normalize  # noqa: F401  (part of the store's API)
from harness.report.location import (  # noqa: F401  (the store's API: check_writable, ResultsLocationError)
    STORE_DIR,
    ResultsLocationError,
    check_writable,
    runs_folder,
    samples_folder,
)
from harness.report.provenance import code_provenance, utc_timestamp
from harness.report.schema import ResultRow
from harness.report.transforms import add_derived

CSV_NAME = "results.csv"
PARQUET_NAME = "results.parquet"
SAMPLES_NAME = "samples.parquet"  # the raw per-sample series, keyed by (run_id, attempt_id, sample)
ORDER = "_store_ns"  # when a row was appended (ns): the table's order, dropped when read

_ARROW_TO_PANDAS = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype(), pa.string(): pd.StringDtype(),
                    pa.large_string(): pd.StringDtype()}


# Strings stay in Arrow memory (millions of samples): no Python object per value.
_SAMPLE_TYPES = {**_ARROW_TO_PANDAS, pa.string(): pd.StringDtype("pyarrow"),
                 pa.large_string(): pd.StringDtype("pyarrow")}


def rows_to_frame(rows: Iterable[ResultRow | Mapping[str, Any]]) -> pd.DataFrame:
    """Rows (ResultRow or plain dicts) to a typed DataFrame with every schema column present."""
    records = [
        (row if isinstance(row, ResultRow) else ResultRow.from_mapping(row)).to_record() for row in rows
    ]
    return normalize(pd.DataFrame.from_records(records))


# -- writing -------------------------------------------------------------------------------------
def append_results(rows: Iterable[ResultRow | Mapping[str, Any]], results_dir: str | Path,
                   samples: pd.DataFrame | None = None) -> pd.DataFrame:
    """Store rows (one run attempt each; derived columns and provenance filled in) and their
    per-sample series as new fragments; return the rows as stored. The cost does not depend on
    the table's size. An attempt already stored (same `attempt_id`) is not stored again."""
    results_dir = Path(results_dir)
    new = add_derived(fill_provenance(rows_to_frame(rows)))
    if new.empty:
        check_writable(results_dir)
        return new
    legacy.migrate(results_dir, append_frames)
    append_frames(results_dir, new, samples)
    return new


def append_frames(results_dir: Path, table: pd.DataFrame, samples: pd.DataFrame | None, key: str | None = None,
                  order: pd.Series | None = None) -> bool:
    """The write itself: samples first, then the rows (a row is what makes an attempt count: samples
    without their row are not read). False when a fragment of that key existed already."""
    ids = table["attempt_id"].dropna().unique()
    key = key or (str(ids[0]) if len(table) == 1 and len(ids) == 1 else f"batch-{uuid.uuid4().hex[:16]}")
    runs, per_sample = runs_folder(results_dir), samples_folder(results_dir)
    runs.mkdir(parents=True, exist_ok=True)
    if samples is not None and len(samples):
        per_sample.mkdir(parents=True, exist_ok=True)
        fragments.write_table_once(_to_arrow(samples), per_sample / f"{key}.parquet")
    stamped = table.assign(**{ORDER: order if order is not None else time.time_ns()})
    written = fragments.write_table_once(_to_arrow(stamped), runs / f"{key}.parquet")
    from harness.report import compaction

    compaction.maybe_compact(results_dir)
    return written


def fill_provenance(new: pd.DataFrame) -> pd.DataFrame:
    """Fill what describes the storing itself, from this machine now (rows are stored right after
    their run): time, host, tinyhil's version and commit, the user's repository commit, and an
    `attempt_id` for rows given none. Tool versions come only from the run that used the tool (the
    ELF's compiler, the emulator that ran): a run that built nothing claims no toolchain."""
    new = new.copy()
    now = {"timestamp": utc_timestamp(), "host": socket.gethostname()}
    if new["tinyhil_version"].isna().any():  # a bench row brings these from its start: no second git call
        now.update(code_provenance())
    for column, value in now.items():
        if value is not None:
            new[column] = new[column].fillna(value)
    missing = new["attempt_id"].isna()
    if missing.any():
        new.loc[missing, "attempt_id"] = [uuid.uuid4().hex[:16] for _ in range(int(missing.sum()))]
    return new


# -- reading -------------------------------------------------------------------------------------
def load_results(results_dir: str | Path) -> pd.DataFrame:
    """The stored table: every attempt once, in the order stored (empty, with the schema columns,
    when nothing is stored). An unreadable fragment is named in a warning and skipped."""
    results_dir = Path(results_dir)
    tables = fragments.read_folder(runs_folder(results_dir))
    old = legacy.read_table(results_dir)  # a folder not migrated yet (e.g. read-only)
    frames = ([old.assign(**{ORDER: range(-len(old), 0)})] if old is not None and len(old) else [])
    table = fragments.concat(tables)
    if table is not None:
        frames.append(_to_pandas(table))
    if not frames:
        return normalize(pd.DataFrame())
    return _ordered_unique(pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0])


def _ordered_unique(df: pd.DataFrame) -> pd.DataFrame:
    df = df.sort_values(ORDER, kind="stable") if ORDER in df.columns else df
    with_id = df["attempt_id"].notna() if "attempt_id" in df.columns else pd.Series(False, index=df.index)
    df = df[~(with_id & df["attempt_id"].duplicated())]  # a compaction cut short leaves copies
    return normalize(df.drop(columns=[ORDER], errors="ignore"))


def load_samples_table(results_dir: str | Path) -> pd.DataFrame:
    """The per-sample series of every stored attempt (empty when no run stored one); series whose
    row was never stored (a writer killed between the two files) are left out, and an attempt found
    in two files (a compaction cut short) is taken from the first. Filtered in Arrow, before pandas:
    this table has a row per sample."""
    results_dir = Path(results_dir)
    stored = pa.array(sorted(_stored_attempts(results_dir)), pa.string())
    seen = pa.array([], pa.string())
    kept = []
    for table in fragments.read_folder(samples_folder(results_dir)):
        ids = table.column("attempt_id").cast(pa.string())
        table = table.filter(pc.and_(pc.is_in(ids, value_set=stored), pc.invert(pc.is_in(ids, value_set=seen))))
        seen = pa.concat_arrays([seen, pc.unique(table.column("attempt_id").cast(pa.string()))])
        kept.append(table)
    old = legacy.read_samples(results_dir)
    frames = [old] if old is not None and len(old) else []
    table = fragments.concat(kept)
    if table is not None and table.num_rows:
        frames.append(table.to_pandas(types_mapper=_SAMPLE_TYPES.get))
    if not frames:
        return pd.DataFrame()
    return (pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]).reset_index(drop=True)


def _stored_attempts(results_dir: Path) -> set[str]:
    ids = {str(a) for t in fragments.read_folder(runs_folder(results_dir), ["attempt_id"])
           for a in t.column("attempt_id").to_pylist() if a is not None}
    old = legacy.read_table(results_dir)
    if old is not None and "attempt_id" in old.columns:
        ids |= set(old["attempt_id"].dropna().astype(str))
    return ids


# -- exports -------------------------------------------------------------------------------------
def export_tables(results_dir: str | Path) -> dict[str, Path]:
    """Write `results.csv`, `results.parquet` and `samples.parquet` from the store (each replaced
    atomically): files for people and other tools, never read back by tinyhil."""
    from harness.report.compaction import compact

    results_dir = Path(results_dir)
    check_writable(results_dir)
    compact(results_dir, full=True)
    table, samples = load_results(results_dir), load_samples_table(results_dir)
    out = {"csv": results_dir / CSV_NAME, "parquet": results_dir / PARQUET_NAME}
    _replace(results_dir / CSV_NAME, lambda p: table.to_csv(p, index=False))
    _replace(results_dir / PARQUET_NAME, lambda p: table.to_parquet(p, index=False))
    if len(samples):
        _replace(results_dir / SAMPLES_NAME, lambda p: samples.to_parquet(p, index=False))
        out["samples"] = results_dir / SAMPLES_NAME
    return out


def write_tables(table: pd.DataFrame, results_dir: str | Path, samples: pd.DataFrame | None = None) -> None:
    """Add to this store the attempts of `table` it does not hold yet (e.g. shards merged by
    `tinyhil report`), with their samples, and refresh the exports."""
    results_dir = Path(results_dir)
    check_writable(results_dir)
    held = set(load_results(results_dir)["attempt_id"].dropna())
    new = normalize(table)
    new = new[~new["attempt_id"].isin(held)]
    if len(new):
        mine = samples[samples["attempt_id"].isin(set(new["attempt_id"]))] if samples is not None else None
        append_frames(results_dir, add_derived(new), mine)
    export_tables(results_dir)


def _replace(path: Path, write) -> None:
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        write(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


# -- types ---------------------------------------------------------------------------------------
def _to_arrow(df: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(df, preserve_index=False)


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas(types_mapper=_ARROW_TO_PANDAS.get)
