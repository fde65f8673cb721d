"""The results store: `results.csv` (for people and diff) and `results.parquet` (typed), kept in step.

Rows are appended: each run adds a row, earlier runs stay (history; `latest_runs` picks the newest
per configuration). The Parquet file is the typed source when both exist.
"""

from __future__ import annotations

import fcntl
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from harness.report.provenance import code_provenance, utc_timestamp
from harness.report.schema import COLUMN_KINDS, COLUMNS, ResultRow
from harness.report.transforms import add_derived

CSV_NAME = "results.csv"
PARQUET_NAME = "results.parquet"
SAMPLES_NAME = "samples.parquet"  # the raw per-sample series, keyed by (run_id, attempt_id, sample)

_PANDAS_DTYPES = {"str": "string", "int": "Int64", "float": "float64", "bool": "boolean"}


def rows_to_frame(rows: Iterable[ResultRow | Mapping[str, Any]]) -> pd.DataFrame:
    """Rows (ResultRow or plain dicts) to a typed DataFrame with every schema column present."""
    records = [
        (row if isinstance(row, ResultRow) else ResultRow.from_mapping(row)).to_record() for row in rows
    ]
    return normalize(pd.DataFrame.from_records(records))


def normalize(df: pd.DataFrame) -> pd.DataFrame:
    """Schema columns first, in order, with their dtypes; extra columns after, as they are."""
    df = df.copy()
    if "git_sha" in df.columns and "tinyhil_commit" not in df.columns:  # tables stored before 0.2
        df = df.rename(columns={"git_sha": "tinyhil_commit"})
    missing = [column for column in COLUMNS if column not in df.columns]
    if missing:  # all at once: one by one fragments the frame (and pandas warns on stderr)
        df = pd.concat([df, pd.DataFrame(pd.NA, index=df.index, columns=missing)], axis=1)
    for column, kind in COLUMN_KINDS.items():
        df[column] = _cast(df[column], kind)
    extras = [c for c in df.columns if c not in COLUMN_KINDS]
    return df[[*COLUMNS, *extras]].reset_index(drop=True)


def load_results(results_dir: str | Path) -> pd.DataFrame:
    """The stored table (empty, with the schema columns, when nothing is stored yet)."""
    results_dir = Path(results_dir)
    parquet, csv = results_dir / PARQUET_NAME, results_dir / CSV_NAME
    if parquet.is_file():
        return normalize(pd.read_parquet(parquet))
    if csv.is_file():
        return normalize(pd.read_csv(csv))
    return normalize(pd.DataFrame())


def append_results(rows: Iterable[ResultRow | Mapping[str, Any]], results_dir: str | Path,
                   samples: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add rows to the store (derived columns filled in), rewrite CSV and Parquet, return the table.
    `samples` (the runs' per-sample series) goes to the companion table in the same locked step."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    new = fill_provenance(rows_to_frame(rows))
    # Sharded sweeps append from several processes: read-modify-write under one lock.
    with open(results_dir / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if samples is not None and len(samples):
            old_samples = load_samples_table(results_dir)
            merged = pd.concat([f for f in (old_samples, samples) if len(f)], ignore_index=True)
            _write_atomically(merged, results_dir / SAMPLES_NAME, lambda df, p: df.to_parquet(p, index=False))
        old = load_results(results_dir)
        frames = [f for f in (old, new) if len(f)]
        table = normalize(pd.concat(frames, ignore_index=True)) if frames else new
        table = add_derived(table)
        _write_atomically(table, results_dir / CSV_NAME, lambda df, p: df.to_csv(p, index=False))
        _write_atomically(table, results_dir / PARQUET_NAME, lambda df, p: df.to_parquet(p, index=False))
    return table


def write_tables(table: pd.DataFrame, results_dir: str | Path, samples: pd.DataFrame | None = None) -> None:
    """Replace the stored table (and the per-sample table) with these, e.g. merged shards."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    with open(results_dir / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        table = add_derived(normalize(table))
        _write_atomically(table, results_dir / CSV_NAME, lambda df, p: df.to_csv(p, index=False))
        _write_atomically(table, results_dir / PARQUET_NAME, lambda df, p: df.to_parquet(p, index=False))
        if samples is not None and len(samples):
            _write_atomically(samples, results_dir / SAMPLES_NAME, lambda df, p: df.to_parquet(p, index=False))


def load_samples_table(results_dir: str | Path) -> pd.DataFrame:
    """The per-sample companion table (empty when no run stored one)."""
    path = Path(results_dir) / SAMPLES_NAME
    return pd.read_parquet(path) if path.is_file() else pd.DataFrame()


def fill_provenance(new: pd.DataFrame) -> pd.DataFrame:
    """Fill what describes the storing itself, from this machine now (rows are stored right after
    their run): time, host, tinyhil's version and commit, the user's repository commit. Tool versions
    come only from the run that used the tool (the ELF's compiler, the emulator that ran): a run that
    built nothing claims no toolchain."""
    new = new.copy()
    now = {"timestamp": utc_timestamp(), "host": socket.gethostname(), **code_provenance()}
    for column, value in now.items():
        if value is not None:
            new[column] = new[column].fillna(value)
    return new


def _write_atomically(df: pd.DataFrame, path: Path, writer) -> None:
    # A reader (or a crash) never sees half a file.
    partial = path.with_name(path.name + ".partial")
    writer(df, partial)
    partial.replace(path)


def _cast(series: pd.Series, kind: str) -> pd.Series:
    if kind == "bool":
        return series.map(_to_bool, na_action="ignore").astype("boolean")
    if kind == "float":
        return pd.to_numeric(series, errors="coerce").astype("float64")
    if kind == "int":
        return pd.to_numeric(series, errors="coerce").round().astype("Int64")
    return series.astype("string")


def _to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)
