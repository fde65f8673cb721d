"""Per-layer profile: the count of each layer (in the run's unit), one panel per model and unit, one
bar per run that profiled it (engine and kernel set, board where they differ). With a single run in
a panel each bar carries its count per MAC. No per-layer data: no figure.

The estimate figure (`per_layer_est`) draws the timing model's per-layer cycles on the named board
the same way (engines side by side: builtin speed and size, TFLM + CMSIS-NN, ...): estimates, never
mixed with measured counts, with the model's name and version on the axis."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from harness.report.facts import caption, shared, varying, with_facts
from harness.report.style import (
    ENGINE_COLOURS,
    NoFigure,
    SeriesStyles,
    fit_ticks,
    height_for,
    new_figure,
    save_figure,
    scale_for,
    styled,
)
from harness.report.style import title as set_title
from harness.report.transforms import latest_runs, per_layer_long, run_label

ROW_IN = 0.1


def _profiled(df: pd.DataFrame) -> pd.DataFrame:
    """Newest runs with a per-layer profile that resolves layers, with their `run` label and `series`
    (engine_set). A TFLM release build strips the profiler events its layer hook needs; its runs now
    carry no profile (Engine.resolves_layers), but rows stored before hold one with the whole
    inference in the first layer: drawn, it would read as a model spending everything there. Left
    out when one layer holds over 99 % of the count while other layers do multiply-accumulates."""
    runs = with_facts(latest_runs(df))
    runs = runs[runs["per_layer_json"].notna()] if "per_layer_json" in runs else runs.iloc[0:0]
    if runs.empty:
        raise NoFigure("no run has a per-layer profile (bench with --per-layer)")

    def resolved(profile: str) -> bool:
        layers = json.loads(profile)
        counts = [float(layer.get("count") or 0) for layer in layers]
        with_macs = sum(1 for layer in layers if (layer.get("macs") or 0) > 0)
        return with_macs < 2 or not sum(counts) or max(counts) <= 0.99 * sum(counts)

    runs = runs[runs["per_layer_json"].map(resolved)]
    if runs.empty:
        raise NoFigure("no per-layer profile resolves its layers (a TFLM release build puts the whole inference "
                       "in its first layer)")
    # bars per engine and kernel set, coloured as in every other figure of the report
    return runs.assign(run=run_label(runs).to_numpy(), series=runs["engine_set"])


def build_per_layer(df: pd.DataFrame, styles: SeriesStyles | None = None):
    runs = _profiled(df)  # panels per model and board (a board has one unit)
    layers = per_layer_long(runs).merge(runs[["run", "series", "board"]], on="run")
    return _figure(runs, layers, styles, "Per-layer profile")


def build_per_layer_estimate(df: pd.DataFrame, styles: SeriesStyles | None = None):
    """The timing model's per-layer cycles (each layer's `cycles_est` in `per_layer_json`)."""
    runs = _profiled(df)
    layers = per_layer_long(runs)
    estimated = set(layers.loc[layers["cycles_est"].notna(), "run"])
    runs = runs[runs["run"].isin(estimated)]
    if runs.empty:
        raise NoFigure("no per-layer profile has the timing model's estimate (bench --per-layer on a board "
                       "with a timing section)")
    layers = layers[layers["run"].isin(estimated)].merge(runs[["run", "series", "board"]], on="run")
    models = sorted(set(runs["timing_model"].dropna().astype(str))) if "timing_model" in runs else []
    layers = layers.assign(count=layers["cycles_est"], unit=f"est. cycles ({', '.join(models) or 'timing model'})")
    return _figure(runs, layers, styles, "Per-layer estimated cycles")


def _figure(runs: pd.DataFrame, layers: pd.DataFrame, styles: SeriesStyles | None, what: str):
    styles = styles or SeriesStyles(runs["series"], ENGINE_COLOURS)
    boards_vary = "board" in varying(runs)
    groups = list(layers.groupby(["model", "board", "unit"], sort=True))
    # two columns of panels leave half the width to a title: "model on board" goes on two lines
    on = "\non " if len(groups) > 1 else " on "
    panels = [(f"{model}{on}{board}" if boards_vary else str(model), unit, rows)
              for (model, board, unit), rows in groups]
    title_lines = 2 if boards_vary and len(groups) > 1 else 1
    heights = [rows["index"].nunique() * rows["series"].nunique() for _, _, rows in panels]
    fig = new_figure(7.0 if len(panels) > 1 else 3.5,
                     sum(height_for(h, ROW_IN, title_lines=title_lines) - 0.3 for h in heights[::2]) + 0.6)
    grid = fig.add_gridspec((len(panels) + 1) // 2, min(2, len(panels)))
    for k, (model, unit, rows) in enumerate(panels):
        ax = fig.add_subplot(grid[k // 2, k % 2])
        _panel(ax, rows, unit, styles)
        ax.set_title(str(model))
    series = sorted(layers["series"].unique())
    if len(series) > 1:
        handles = [Patch(facecolor=styles[s].colour, hatch=styles[s].hatch, edgecolor="white", label=s)
                   for s in series]
        fig.legend(handles=handles, loc="outside lower center", ncols=min(3, len(series)))
    common = caption(shared(runs, ("engine_set", "board", "target")))
    set_title(fig, what + (f": {common}" if common else ""))
    return fig


def _panel(ax, rows: pd.DataFrame, unit: str, styles: SeriesStyles) -> None:
    series = sorted(rows["series"].unique())
    layer_index = sorted(rows["index"].unique())
    names = rows.drop_duplicates("index").set_index("index").reindex(layer_index)
    height = 0.8 / len(series)
    counts = rows["count"].astype(float)
    scale, prefix = scale_for(float(counts.max()))
    for k, name in enumerate(series):
        mine = rows[rows["series"] == name].set_index("index").reindex(layer_index)
        y = np.arange(len(layer_index)) + (k - (len(series) - 1) / 2) * height
        ax.barh(y, mine["count"].astype(float).to_numpy(), height, color=styles[name].colour,
                hatch=styles[name].hatch, edgecolor="white", linewidth=0.3)
        if len(series) == 1:  # count per MAC beside each bar: compares kernels across layer sizes
            for yi, (count, macs) in enumerate(zip(mine["count"], mine["macs"], strict=True)):
                if pd.notna(count) and pd.notna(macs) and float(macs) > 0:
                    ax.text(float(count), yi, f" {float(count) / float(macs):.1f}/MAC", va="center", fontsize=5.5)
    ax.set_xlim(0, float(counts.max()) * (1.3 if len(series) == 1 else 1.05))
    fit_ticks(ax.xaxis, [float(counts.max())], scale=scale, log=False)
    ax.set_xlabel(f"{prefix}{unit} per inference")
    ax.set_yticks(np.arange(len(layer_index)), [f"{i} {op}" for i, op in zip(layer_index, names["op"], strict=True)])
    ax.set_ylim(len(layer_index) - 0.5, -0.5)
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)


def plot_per_layer(df: pd.DataFrame, out_stem: str | Path, styles: SeriesStyles | None = None):
    """Write `<out_stem>.png` and `.pdf`; raises `NoFigure` when no run has a per-layer profile."""
    with styled():
        return save_figure(build_per_layer(df, styles), out_stem)
