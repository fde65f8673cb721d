"""A results table's shape: the schema's columns first, in order, with their pandas dtypes (what every
reader of stored rows hands on, old tables included)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from harness.report.schema import COLUMN_KINDS


def normalize(df: pd.DataFrame) -> pd.DataFrame:
    """Schema columns first, in order, with their dtypes; extra columns after, as they are."""
    df = df.reset_index(drop=True)
    if "git_sha" in df.columns and "tinyhil_commit" not in df.columns:  # tables stored before 0.2
        df = df.rename(columns={"git_sha": "tinyhil_commit"})
    absent = pd.Series(pd.NA, index=df.index, dtype="object")
    columns = {column: _cast(df[column] if column in df.columns else absent, kind)
               for column, kind in COLUMN_KINDS.items()}
    columns.update({c: df[c] for c in df.columns if c not in COLUMN_KINDS})
    return pd.DataFrame(columns, index=df.index)


def _cast(series: pd.Series, kind: str) -> pd.Series:
    if kind == "bool":
        if str(series.dtype) == "boolean":
            return series
        return series.map(_to_bool, na_action="ignore").astype("boolean")
    if kind == "float":
        return pd.to_numeric(series, errors="coerce").astype("float64")
    if kind == "int":
        if str(series.dtype) == "Int64":
            return series
        return pd.to_numeric(series, errors="coerce").round().astype("Int64")
    return series.astype("string")


def _to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)
