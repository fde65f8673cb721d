"""A compact console view of results rows (rich)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from harness.output import OutputConsole
from harness.report.schema import ResultRow
from harness.report.store import rows_to_frame
from harness.report.transforms import add_derived


def print_rows(rows: Iterable[ResultRow | Mapping[str, Any]], console: Console | None = None,
               title: str = "tinyhil results") -> None:
    """Print result rows (ResultRow or plain dicts, as the bench returns them) as a summary table."""
    (console or OutputConsole()).print(summary_table(add_derived(rows_to_frame(rows)), title=title))


def summary_table(df: pd.DataFrame, title: str = "tinyhil results") -> Table:
    """One line per run: latency with its unit, memory, accuracy, host mismatches or the error."""
    table = Table(title=title)
    for name, justify in [
        ("model", "left"), ("board", "left"), ("target", "left"), ("engine", "left"),
        ("latency (median)", "right"), ("ms", "right"), ("per MAC", "right"),
        ("arena B", "right"), ("TFLM arena B", "right"), ("flash B", "right"), ("RAM B", "right"),
        ("acc. device", "right"), ("acc. host", "right"), ("mismatches", "right"),
    ]:
        table.add_column(name, justify=justify)
    for _, row in df.iterrows():
        engine = _text(row.get("engine")) + (f"-{row['kernels']}" if pd.notna(row.get("kernels")) else "")
        cells = [_text(row.get("model")), _text(row.get("board")), _text(row.get("target")), engine]
        if pd.notna(row.get("error")):
            table.add_row(*cells, f"[red]error: {row['error']}[/red]", *[""] * 9)
            continue
        latency = _int(row.get("latency_median"))
        cells += [
            f"{latency} {row['unit']}" if latency else "",
            _number(row.get("latency_ms"), "{:.3f}"),
            _number(row.get("instructions_per_mac"), "{:.2f}"),
            _int(row.get("arena_bytes")),
            _int(row.get("tflm_arena_bytes")),
            _int(row.get("flash_bytes")),
            _int(row.get("ram_bytes")),
            _number(row.get("accuracy_device"), "{:.2%}"),
            _number(row.get("accuracy_host"), "{:.2%}"),
            _int(row.get("host_mismatches")),
        ]
        table.add_row(*cells)
    return table


def _text(value) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def _number(value, fmt: str) -> str:
    return "" if value is None or pd.isna(value) else fmt.format(float(value))


def _int(value) -> str:
    return "" if value is None or pd.isna(value) else f"{round(float(value)):,}"
