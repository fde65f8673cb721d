"""The engine comparison figure: grouped by model, one bar per engine and kernel set (builtin,
TFLM + CMSIS-NN, TFLM reference, ...) for the per-MAC cost, the whole arena used (persistent +
non-persistent) and the engine's kernel code in flash; one row of panels per board, since a board's
count has its own unit (emulator instructions or DWT cycles, never mixed). With a single engine and
kernel set there is nothing to compare: no figure, and the report says so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness.report.facts import caption, shared, varying, with_facts
from harness.report.style import ENGINE_COLOURS, NoFigure, SeriesStyles, fit_ticks, new_figure, save_figure, styled
from harness.report.style import title as set_title
from harness.report.transforms import add_derived, latest_runs, successful, unperturbed

PANELS = (("per_mac", "{unit} per MAC"), ("arena_kib", "arena used (KiB)"),
          ("kernels_kib", "kernel code in flash (KiB)"))


def engine_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Newest successful runs: model, board, target, unit, series (engine-kernels) and the three figures.
    One bar per series, model and board: when the table holds several runs of them (an engine rebuilt
    after an update: other firmware, so another run), the newest stands for them."""
    runs = with_facts(add_derived(successful(latest_runs(unperturbed(df)))))
    per_mac = runs["instructions_per_mac"]
    if "cycles_per_mac" in runs:
        per_mac = per_mac.fillna(runs["cycles_per_mac"])
    cycles = (runs["unit"] == "cycles") & (pd.to_numeric(runs["macs"], errors="coerce") > 0)
    derived = pd.to_numeric(runs["latency_median"], errors="coerce").astype(float) / pd.to_numeric(
        runs["macs"], errors="coerce").astype(float)
    per_mac = per_mac.astype(float).fillna(derived.where(cycles))
    out = pd.DataFrame({
        "model": runs["model"], "board": runs["board"], "target": runs["target"], "unit": runs["unit"],
        "series": runs["engine_set"], "method": runs["method"],
        "instructions_per_mac": runs["instructions_per_mac"], "per_mac": per_mac,
        "arena_bytes": runs["arena_bytes"], "flash_kernels_bytes": runs.get("flash_kernels_bytes", np.nan),
    })
    out["arena_kib"] = out["arena_bytes"] / 1024
    out["kernels_kib"] = pd.to_numeric(out["flash_kernels_bytes"], errors="coerce") / 1024
    out = out.drop_duplicates(["model", "board", "series"], keep="last")  # latest_runs keeps table order
    return out.reset_index(drop=True)


def build_engines(df: pd.DataFrame, styles: SeriesStyles | None = None):
    frame = engine_frame(df)
    series = sorted(frame["series"].unique())
    if len(series) < 2:
        only = series[0] if series else "none"
        raise NoFigure(f"only one engine and kernel set in the results ({only}): nothing to compare")
    styles = styles or SeriesStyles(series, ENGINE_COLOURS)
    boards = sorted(frame["board"].astype(str).unique())
    models = sorted(frame["model"].astype(str).unique())
    bar = 0.075  # inches per bar
    panel_height = max(0.9, len(models) * len(series) * bar + 0.1 * len(models)) + 0.45  # + ticks, axis label
    fig = new_figure(7.0, 0.55 + panel_height * len(boards))
    axes = fig.subplots(len(boards), len(PANELS), squeeze=False, sharey="row")
    height = 0.8 / len(series)
    for row, board in enumerate(boards):
        mine = frame[frame["board"].astype(str) == board]
        unit = str(mine["unit"].dropna().iloc[0]) if mine["unit"].notna().any() else "count"
        for col, (column, label) in enumerate(PANELS):
            ax = axes[row, col]
            for k, name in enumerate(series):
                values = mine[mine["series"] == name].set_index("model")[column].reindex(models).astype(float)
                style = styles[name]
                ax.barh(np.arange(len(models)) + (k - (len(series) - 1) / 2) * height, values.to_numpy(), height,
                        color=style.colour, hatch=style.hatch, edgecolor="white", linewidth=0.3, label=name)
            fit_ticks(ax.xaxis, mine[column].dropna(), log=False)
            ax.set_xlim(left=0)
            ax.set_xlabel(label.format(unit=unit))
            ax.grid(axis="x")
            ax.grid(axis="y", visible=False)
        axes[row, 0].set_yticks(np.arange(len(models)), models)
        axes[row, 0].invert_yaxis()
        if len(boards) > 1:
            axes[row, 0].set_ylabel(f"{board} ({mine['target'].iloc[0]})")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(series), 4))
    common = shared(frame.rename(columns={"series": "engine_set"}), ("board", "target", "method"))
    shown = caption(common)
    if "model" not in varying(frame):
        shown = ", ".join(filter(None, [f"model {models[0]}", shown]))
    set_title(fig, "Engines and kernel sets compared" + (f": {shown}" if shown else ""))
    return fig


def plot_engines(df: pd.DataFrame, out_stem: str | Path, styles: SeriesStyles | None = None):
    """Write `<out_stem>.png` and `.pdf`; raises `NoFigure` with fewer than two engine/kernel sets."""
    with styled():
        return save_figure(build_engines(df, styles), out_stem)
