"""Figures and tables for a paper, from the results table: the comparison table (CSV + LaTeX) and
memory as stacked bars — what the model costs vs what the harness costs — against the board's
limits. One colour per engine/method across every figure (`series_colour`), units on every axis,
thousands separators on every number."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from harness.report.transforms import add_derived, latest_runs, run_label, successful

PALETTE = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
           "tab:olive", "tab:cyan", "tab:gray")
# Stacked memory parts: (column, label, belongs to the model?)
FLASH_STACK = (("flash_weights_bytes", "weights", True), ("flash_model_code_bytes", "model code", True),
               ("flash_kernels_bytes", "kernels", True), ("flash_harness_bytes", "harness", False),
               ("flash_runtime_bytes", "C runtime", False), ("flash_test_data_bytes", "test data", False),
               ("flash_other_bytes", "unattributed", False))
RAM_STACK = (("ram_arena_bytes", "arena", True), ("ram_engine_state_bytes", "engine state", True),
             ("ram_stack_bytes", "stack (reserved)", False), ("ram_harness_bytes", "harness buffers", False),
             ("ram_other_bytes", "unattributed", False))
THOUSANDS = FuncFormatter(lambda x, _pos: f"{x:,.0f}")


def series_name(row: pd.Series) -> str:
    """What a colour stands for: the compression method of a variant, else engine-kernels."""
    method = row.get("compress_method")
    if isinstance(method, str) and method:
        return method
    kernels = row.get("kernels")
    return f"{row.get('engine')}-{kernels}" if isinstance(kernels, str) else str(row.get("engine"))


def series_colour(name: str) -> str:
    """The same series always gets the same colour, in every figure and every report."""
    return PALETTE[zlib.crc32(name.encode()) % len(PALETTE)]


def comparison_table(df: pd.DataFrame) -> pd.DataFrame:
    """One line per newest successful run: the figures a paper compares, each header with its unit."""
    runs = successful(add_derived(latest_runs(df)))
    table = pd.DataFrame({
        "model": runs["model"], "board": runs["board"], "target": runs["target"],
        "engine": [series_name(r) for _, r in runs.iterrows()],
        "unit": runs["unit"],
        "latency (median)": runs["latency_median"],
        "latency (ms)": runs["latency_ms"],
        "per MAC": runs["instructions_per_mac"].fillna(runs["cycles_per_mac"]),
        "arena (B)": runs["arena_bytes"],
        "model flash (B)": runs["deploy_flash_bytes"],
        "model RAM (B)": runs["deploy_ram_bytes"],
        "firmware flash (B)": runs["flash_bytes"],
        "accuracy (%)": runs["accuracy_device"] * 100,
        "host mismatches": runs["host_mismatches"],
    })
    return table.reset_index(drop=True)


def write_comparison(df: pd.DataFrame, out_stem: str | Path) -> tuple[Path, Path]:
    """`<stem>.csv` and `<stem>.tex` (a booktabs tabular; numbers with thousands separators)."""
    out_stem = Path(out_stem)
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    table = comparison_table(df)
    csv, tex = out_stem.with_suffix(".csv"), out_stem.with_suffix(".tex")
    table.to_csv(csv, index=False)
    integer = ["latency (median)", "arena (B)", "model flash (B)", "model RAM (B)", "firmware flash (B)",
               "host mismatches"]
    styler = table.style.hide(axis="index").format(na_rep="--", escape="latex")
    styler = styler.format("{:,.0f}", subset=integer, na_rep="--")
    styler = styler.format("{:,.3f}", subset=["latency (ms)", "per MAC"], na_rep="--")
    styler = styler.format("{:.2f}", subset=["accuracy (%)"], na_rep="--")
    tex.write_text(styler.to_latex(hrules=True, column_format="l" * 5 + "r" * (len(table.columns) - 5)))
    return csv, tex


def plot_memory_split(df: pd.DataFrame, out_stem: str | Path, boards: dict[str, tuple[int, int]] | None = None):
    """Flash and RAM per run as stacked bars, model parts first (solid) then harness parts (hatched),
    with each board's flash/RAM as a limit line. `boards`: name -> (flash bytes, RAM bytes)."""
    from harness.report.figure_files import save_figure

    runs = successful(latest_runs(df)).dropna(subset=["flash_weights_bytes"])
    labels = list(run_label(runs)) or ["(no memory split)"]
    fig = Figure(figsize=(11, 1.6 + 0.45 * len(labels)), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, stack, limit_index, title in ((axes[0], FLASH_STACK, 0, "flash"),
                                          (axes[1], RAM_STACK, 1, "RAM")):
        left = np.zeros(len(runs))
        for k, (column, label, model_part) in enumerate(stack):
            values = runs[column].astype(float).fillna(0).to_numpy() / 1024 if len(runs) else np.zeros(0)
            ax.barh(np.arange(len(runs)), values, left=left, color=PALETTE[k % len(PALETTE)],
                    hatch=None if model_part else "//", edgecolor="white",
                    label=f"{label} ({'model' if model_part else 'harness'})")
            left += values
        right = max(float(left.max()) * 1.35, 1.0) if len(left) else 1.0
        for y, (_, run) in enumerate(runs.iterrows()):
            ax.annotate(f"{left[y] * 1024:,.0f} B", (left[y], y), xytext=(3, -3), textcoords="offset points",
                        fontsize=7)
            limit = (boards or {}).get(run["board"])
            if not limit:
                continue
            kib = limit[limit_index] / 1024
            if kib <= right:  # the board's capacity as a black tick on the run's bar
                ax.plot([kib] * 2, [y - 0.4, y + 0.4], color="black", lw=1.5)
            else:  # far off the scale: say it at the edge
                ax.annotate(f"board: {kib:,.0f} KiB →", (right, y + 0.42), ha="right", fontsize=6, color="0.3")
        ax.set_xlim(0, right)
        ax.set_title(title)
        ax.set_xlabel(f"{title} (KiB)")
        ax.xaxis.set_major_formatter(THOUSANDS)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    axes[0].set_yticks(np.arange(len(labels)), labels, fontsize=8)
    axes[0].invert_yaxis()
    fig.suptitle("What the model costs (solid) vs what the harness costs (hatched); black tick: the board's capacity")
    return save_figure(fig, out_stem)


def merge_tables(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Results of several directories (shards of one sweep) as one table: each attempt once."""
    frames = [t for t in tables if len(t)]
    if not frames:
        return tables[0] if tables else pd.DataFrame()
    merged = pd.concat(frames, ignore_index=True)
    with_id = merged["attempt_id"].notna()
    merged = pd.concat([merged[with_id].drop_duplicates("attempt_id"), merged[~with_id]], ignore_index=True)
    return merged.sort_values("timestamp", kind="stable", na_position="first").reset_index(drop=True)
