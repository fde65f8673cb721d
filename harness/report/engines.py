"""The engine comparison figure: per model and board, one bar per engine and kernel set (builtin,
TFLM + CMSIS-NN, TFLM reference, ...) for emulator instructions per MAC, the whole arena used
(persistent + non-persistent) and the engine's kernel code in flash. Only runs counted in emulator
instructions are compared (cycles from a board are another unit)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harness.report.paper import THOUSANDS, series_colour, series_name
from harness.report.transforms import latest_runs, successful

PANELS = (("instructions_per_mac", "instructions / MAC (emulator)"), ("arena_bytes", "arena used (B)"),
          ("flash_kernels_bytes", "kernel code in flash (B)"))


def engine_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Newest successful instruction-counted runs: model, board, series and the three figures."""
    runs = successful(latest_runs(df))
    runs = runs[runs["unit"] == "instructions"] if "unit" in runs else runs.iloc[0:0]
    out = pd.DataFrame({"model": runs["model"], "board": runs["board"],
                        "series": [series_name(r) for _, r in runs.iterrows()]})
    for column, _ in PANELS:
        out[column] = runs[column] if column in runs else np.nan
    return out.reset_index(drop=True)


def plot_engines(df: pd.DataFrame, out_stem: str | Path):
    from harness.report.figure_files import save_figure

    frame = engine_frame(df)
    groups = sorted({(m, b) for m, b in zip(frame["model"], frame["board"], strict=True)})
    series = sorted(set(frame["series"]))
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    axes = fig.subplots(1, len(PANELS))
    width = 0.8 / max(len(series), 1)
    for ax, (column, label) in zip(axes, PANELS, strict=True):
        for k, name in enumerate(series):
            values = []
            for model, board in groups:
                hit = frame[(frame["model"] == model) & (frame["board"] == board) & (frame["series"] == name)]
                values.append(float(hit[column].iloc[0]) if len(hit) and pd.notna(hit[column].iloc[0]) else 0.0)
            ax.bar(np.arange(len(groups)) + (k - (len(series) - 1) / 2) * width, values, width,
                   color=series_colour(name), label=name)
        ax.set_xticks(np.arange(max(len(groups), 1)), [f"{m}\n{b}" for m, b in groups] or ["(no runs)"], fontsize=7)
        ax.set_ylabel(label)
        ax.yaxis.set_major_formatter(THOUSANDS)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=7, frameon=False)
    fig.suptitle("Engines side by side (QEMU -icount shift=0: emulator instructions, not cycles)")
    return save_figure(fig, out_stem)
