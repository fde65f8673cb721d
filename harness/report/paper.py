"""Tables for a paper, from the results table: the comparison as CSV (every column) and LaTeX (booktabs,
a caption naming what every row shares, a label, numbers right-aligned with fixed decimals). Engine,
kernel set and compression method are separate columns; every header carries its unit."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.report.facts import ESTIMATE_COLUMN, caption, shared, with_facts
from harness.report.memory import (  # noqa: F401 - kept importable from here
    FLASH_STACK,
    RAM_STACK,
    plot_memory_split,  # noqa: F401 - kept importable from here
)
from harness.report.transforms import add_derived, latest_runs, successful

LABEL = "tab:tinyhil-comparison"
_IDENTITY = ("model", "method", "engine", "kernels", "board", "target")


def comparison_table(df: pd.DataFrame) -> pd.DataFrame:
    """One line per newest successful run: the figures a paper compares, each header with its unit.
    Latency columns exist per unit present (emulator instructions and DWT cycles are never one column)."""
    runs = with_facts(successful(add_derived(latest_runs(df))))
    table = pd.DataFrame({"model": runs["model"], "method": runs["method"], "engine": runs["engine"],
                          "kernels": runs["kernels"], "board": runs["board"], "target": runs["target"]})
    units = sorted(runs["unit"].dropna().unique())
    for unit in units:
        table[f"latency ({unit})"] = runs["latency_median"].where(runs["unit"] == unit)
    if runs["latency_ms"].notna().any():
        table["latency (ms)"] = runs["latency_ms"]
    if ESTIMATE_COLUMN in runs and runs[ESTIMATE_COLUMN].notna().any():
        table["estimated latency (ms)"] = runs[ESTIMATE_COLUMN]
    per_mac = runs["latency_median"] / pd.to_numeric(runs["macs"], errors="coerce").where(lambda m: m > 0)
    for unit in units:
        table[f"{unit} / MAC"] = per_mac.where(runs["unit"] == unit)
    table["arena (B)"] = runs["arena_bytes"]
    table["model flash (B)"] = runs["deploy_flash_bytes"]
    table["model RAM (B)"] = runs["deploy_ram_bytes"]
    table["firmware flash (B)"] = runs["flash_bytes"]
    table["accuracy (%)"] = runs["accuracy_device"] * 100
    table["host mismatches"] = runs["host_mismatches"]
    if not table["method"].astype(bool).any():
        table = table.drop(columns="method")
    table = table.dropna(axis=1, how="all")
    return table.reset_index(drop=True)


def write_comparison(df: pd.DataFrame, out_stem: str | Path) -> tuple[Path, Path]:
    """`<stem>.csv` (every column) and `<stem>.tex`: a booktabs `table` with a caption and the label
    `tab:tinyhil-comparison`; columns every row shares are named once in the caption instead."""
    out_stem = Path(out_stem)
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    table = comparison_table(df)
    csv, tex = out_stem.with_suffix(".csv"), out_stem.with_suffix(".tex")
    table.to_csv(csv, index=False)
    tex.write_text(comparison_latex(table))
    return csv, tex


def comparison_latex(table: pd.DataFrame) -> str:
    runs = table.rename(columns={"engine": "engine_set"}).assign(engine_set=_engine_sets(table))
    common = shared(runs) if len(table) > 1 else {}
    drop = [c for c in _IDENTITY if (c == "engine" and "engine_set" in common) or c in common
            or (c == "kernels" and "engine_set" in common) or (c == "target" and "board" in common)]
    shown = table.drop(columns=[c for c in drop if c in table])
    styler = comparison_styler(shown, "latex").format_index(escape="latex", axis=1)
    text = [c for c in shown if c in _IDENTITY]
    what = caption(common)
    note = "Measured with tinyhil" + (f": {what}" if what else "") + "; -- where a run has no such figure."
    return styler.to_latex(
        hrules=True, caption=_latex_escape(note), label=LABEL, position="tbp", position_float="centering",
        column_format="l" * len(text) + "r" * (len(shown.columns) - len(text)),
    )


def comparison_styler(shown: pd.DataFrame, escape: str):
    """Numbers as a paper prints them: counts and bytes with thousands separators and no decimals, ms to
    3 places, per-MAC and accuracy to 2; `--` where a run has no such figure."""
    integer = [c for c in shown if c.startswith("latency (") and c != "latency (ms)" or c.endswith("(B)")
               or c == "host mismatches"]
    decimals = {c: 2 for c in shown if c.endswith("/ MAC") or c.endswith("(%)")}
    decimals |= {c: 3 for c in ("latency (ms)", "estimated latency (ms)") if c in shown}
    styler = shown.style.hide(axis="index").format(na_rep="--", escape=escape)
    styler = styler.format("{:,.0f}", subset=integer, na_rep="--")
    for column, places in decimals.items():
        styler = styler.format(f"{{:,.{places}f}}", subset=[column], na_rep="--")
    if escape != "html":
        return styler
    return styler.set_properties(subset=[c for c in shown if c in _IDENTITY], **{"text-align": "left"})


def _engine_sets(table: pd.DataFrame) -> pd.Series:
    kernels = table["kernels"].astype("string").fillna("")
    return table["engine"].astype("string").fillna("?") + kernels.map(lambda k: f"-{k}" if k else "")


def _latex_escape(text: str) -> str:
    for char, replacement in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"),
                              ("#", r"\#"), ("$", r"\$")):
        text = text.replace(char, replacement)
    return text


def merge_tables(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Results of several directories (shards of one sweep) as one table: each attempt once."""
    frames = [t for t in tables if len(t)]
    if not frames:
        return tables[0] if tables else pd.DataFrame()
    merged = pd.concat(frames, ignore_index=True)
    with_id = merged["attempt_id"].notna()
    merged = pd.concat([merged[with_id].drop_duplicates("attempt_id"), merged[~with_id]], ignore_index=True)
    return merged.sort_values("timestamp", kind="stable", na_position="first").reset_index(drop=True)
