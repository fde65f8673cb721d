"""Plots of the results table, each written as PNG and PDF.

Figures are built with `matplotlib.figure.Figure` (no pyplot, no GUI backend, no global state),
which renders through Agg. Every latency axis names its unit: emulator instruction counts are
never shown as cycles. Each plot shows the newest run per configuration (`latest_runs`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harness.report.figure_files import save_figure  # noqa: F401 - re-exported: harness.report.save_figure
from harness.report.paper import THOUSANDS, series_colour, series_name
from harness.report.transforms import (
    add_derived,
    latest_runs,
    memory_long,
    pareto_front,
    per_layer_long,
    run_label,
    successful,
    unperturbed,
)

_MEMORY_LABELS = {
    "flash": "flash (ELF)", "ram": "RAM (ELF)", "arena": "engine arena (measured)",
    "tflm_arena": "TFLM arena, total", "tflm_arena_head": "TFLM arena, head (activation plan)",
}


def latency_axis(group: pd.DataFrame, unit: str) -> tuple[pd.Series, str]:
    """Latency values and their axis label: ms for cycle counts with a known clock, else the raw unit."""
    if unit == "cycles" and group["latency_ms"].notna().all():
        return group["latency_ms"], "latency per inference (ms)"
    return group["latency_median"], f"latency per inference ({unit})"


def plot_pareto(df: pd.DataFrame, out_stem: str | Path) -> tuple[Path, Path]:
    """Accuracy vs latency, one panel per latency unit, Pareto front drawn as a step line."""
    runs = successful(add_derived(latest_runs(unperturbed(df))))
    runs = pareto_front(runs.dropna(subset=["latency_median", "accuracy_device", "unit"]))
    units = sorted(runs["unit"].unique()) or [None]
    fig = Figure(figsize=(6.4 * len(units), 4.8), layout="constrained")
    for ax, unit in zip(fig.subplots(1, len(units), squeeze=False)[0], units, strict=True):
        group = runs[runs["unit"] == unit]
        x, xlabel = latency_axis(group, unit)
        series = [series_name(r) for _, r in group.iterrows()]
        for name in dict.fromkeys(series):  # one colour per engine/method, the same in every figure
            mine = np.array([s == name for s in series], dtype=bool)
            ax.scatter(x[mine], group["accuracy_device"][mine] * 100, color=series_colour(name), zorder=3, label=name)
        ax.xaxis.set_major_formatter(THOUSANDS)
        for xi, yi, label in zip(x, group["accuracy_device"] * 100, run_label(group), strict=True):
            ax.annotate(label, (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=7)
        front = group["on_pareto_front"].to_numpy(bool)
        if front.any():
            fx = x.to_numpy(float)[front]
            fy = (group["accuracy_device"] * 100).to_numpy(float)[front]
            order = np.argsort(fx)
            ax.step(fx[order], fy[order], where="post", color="tab:red", zorder=2)
            ax.scatter(fx, fy, s=90, facecolors="none", edgecolors="tab:red", zorder=4, label="Pareto front")
        if len(group):
            ax.legend(loc="lower right", fontsize=8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("accuracy on device (%)")
        ax.grid(alpha=0.3)
        if group.empty:
            ax.set_xlabel("latency per inference")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.text(0.5, 0.5, "no successful runs", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle("Accuracy vs latency")
    return save_figure(fig, out_stem)


def plot_memory(df: pd.DataFrame, out_stem: str | Path) -> tuple[Path, Path]:
    """Flash, RAM, engine arena and TFLM arena per run, as grouped horizontal bars (KiB)."""
    long = memory_long(latest_runs(unperturbed(df)))
    runs = list(dict.fromkeys(long["run"]))
    kinds = list(dict.fromkeys(long["memory"]))
    fig = Figure(figsize=(8, 1.2 + 0.25 * max(1, len(runs)) * max(2, len(kinds))), layout="constrained")
    ax = fig.subplots()
    height = 0.8 / max(1, len(kinds))
    for k, kind in enumerate(kinds):
        values = long[long["memory"] == kind].set_index("run")["bytes"].reindex(runs).astype(float) / 1024
        ax.barh(np.arange(len(runs)) + k * height, values.fillna(0), height=height,
                label=_MEMORY_LABELS.get(kind, kind))
    ax.set_yticks(np.arange(len(runs)) + height * (len(kinds) - 1) / 2, runs, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("memory (KiB)")
    ax.xaxis.set_major_formatter(THOUSANDS)
    if kinds:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no memory figures", ha="center", va="center", transform=ax.transAxes)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Memory per run")
    return save_figure(fig, out_stem)


def plot_per_layer(df: pd.DataFrame, out_stem: str | Path) -> tuple[Path, Path]:
    """Count per layer (in the run's unit), one panel per run that has a per-layer profile."""
    layers = per_layer_long(latest_runs(df))
    runs = list(dict.fromkeys(layers["run"])) or ["(no per-layer profile)"]
    most = max([int((layers["run"] == r).sum()) for r in runs] + [1])
    fig = Figure(figsize=(8, (0.8 + 0.3 * most) * len(runs) + 0.6), layout="constrained")
    for ax, run in zip(fig.subplots(len(runs), 1, squeeze=False)[:, 0], runs, strict=True):
        rows = layers[layers["run"] == run].sort_values("index")
        labels = [f"{i}: {op} {_short(name)}"
                  for i, name, op in zip(rows["index"], rows["name"], rows["op"], strict=True)]
        counts = rows["count"].astype(float)
        ax.barh(np.arange(len(rows)), counts, color="tab:green")
        ax.set_yticks(np.arange(len(rows)), labels, fontsize=8)
        ax.invert_yaxis()
        if len(rows) and counts.max() > 0:
            ax.set_xlim(0, counts.max() * 1.18)  # room for the per-MAC notes
        unit = rows["unit"].iloc[0] if len(rows) else "count"
        ax.set_xlabel(f"{unit} per inference")
        ax.xaxis.set_major_formatter(THOUSANDS)
        ax.set_title(run, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        _annotate_per_mac(ax, rows)
    fig.suptitle("Per-layer profile")
    return save_figure(fig, out_stem)


def _annotate_per_mac(ax, rows: pd.DataFrame) -> None:
    # Count per MAC next to each bar: the figure that compares kernels across layer sizes.
    for y, (count, macs) in enumerate(zip(rows["count"], rows["macs"], strict=True)):
        if pd.notna(count) and pd.notna(macs) and float(macs) > 0:
            ax.annotate(f"{float(count) / float(macs):.2f}/MAC", (float(count), y),
                        textcoords="offset points", xytext=(3, -3), fontsize=7)


def _short(tensor_name: str, width: int = 28) -> str:
    # Converters join fused node names with ';' into one long tensor name: keep the first, clipped.
    first = str(tensor_name).split(";")[0]
    return first if len(first) <= width else "…" + first[-(width - 1):]
