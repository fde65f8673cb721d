"""Memory figures. `memory`: flash, RAM and arena of each run as a dot plot (one row per run, one
marker per kind, KiB). `memory_split`: flash and RAM as stacked bars, what the model costs (solid)
vs what the harness costs (hatched), with the board's capacity where it is on the scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness.report.facts import caption, labels, shared, varying, with_facts
from harness.report.style import (
    MARKERS,
    PART_COLOURS,
    NoFigure,
    fit_ticks,
    height_for,
    new_figure,
    save_figure,
    styled,
)
from harness.report.style import title as set_title
from harness.report.transforms import latest_runs, successful, unperturbed

KINDS = (("flash_bytes", "flash, whole firmware (ELF)"), ("ram_bytes", "RAM, whole firmware (ELF)"),
         ("arena_bytes", "arena used (device)"),
         ("tflm_arena_bytes", "TFLM's arena plan for the same model (host)"),
         ("tflm_arena_head_bytes", "its activation part (host)"))
# Stacked memory parts: (column, label, belongs to the model?)
FLASH_STACK = (("flash_weights_bytes", "weights", True), ("flash_model_code_bytes", "model code", True),
               ("flash_kernels_bytes", "kernels", True), ("flash_harness_bytes", "harness code", False),
               ("flash_runtime_bytes", "C runtime", False), ("flash_test_data_bytes", "test data", False),
               ("flash_other_bytes", "unattributed", False))
RAM_STACK = (("ram_arena_bytes", "arena", True), ("ram_weights_bytes", "weights", True),
             ("ram_engine_state_bytes", "engine state", True),
             ("ram_stack_bytes", "stack (reserved)", False), ("ram_harness_bytes", "harness buffers", False),
             ("ram_other_bytes", "unattributed", False))
ROW_IN = 0.12  # inches per run: the tick labels' line (6 pt type) and a gap


def _runs(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, str]:
    runs = with_facts(successful(latest_runs(unperturbed(df))))
    facts = varying(runs)
    return runs, labels(runs, facts).reset_index(drop=True), caption(shared(runs))


def build_memory(df: pd.DataFrame):
    runs, names, common = _runs(df)
    kinds = [(c, label) for c, label in KINDS if c in runs and runs[c].notna().any()]
    if runs.empty or not kinds:
        raise NoFigure("no successful run has a flash, RAM or arena figure")
    wide = names.str.len().max() > 24
    fig = new_figure(7.0 if wide else 3.5, height_for(len(runs), ROW_IN, legend_rows=3 if wide else len(kinds)))
    ax = fig.subplots()
    y = np.arange(len(runs))
    values = []
    for k, (column, label) in enumerate(kinds):
        kib = runs[column].astype(float).to_numpy() / 1024
        values.extend(kib[~np.isnan(kib)])
        ax.plot(kib, y, linestyle="none", marker=MARKERS[k], color=PART_COLOURS[k], label=label,
                fillstyle="full" if k < 3 else "none")
    fit_ticks(ax.xaxis, values)
    ax.set_yticks(y, names)
    ax.set_ylim(len(runs) - 0.5, -0.5)
    ax.set_xlabel("memory (KiB)")
    ax.grid(axis="x", which="both")
    fig.legend(loc="outside lower center", ncols=2 if wide else 1)
    set_title(fig, "Memory per run" + (f": {common}" if common else ""))
    return fig


def build_memory_split(df: pd.DataFrame, boards: dict[str, tuple[int, int]] | None = None):
    """`boards`: name -> (flash bytes, RAM bytes), drawn as a tick on each run's bar where on the scale."""
    runs, names, common = _runs(df)
    keep = runs["flash_weights_bytes"].notna().to_numpy() if "flash_weights_bytes" in runs else np.zeros(0, bool)
    if not keep.any():
        raise NoFigure("no successful run has the flash/RAM split of its firmware (flash_weights_bytes, ...)")
    runs, names = runs[keep].reset_index(drop=True), names[keep].reset_index(drop=True)
    # the title's two lines wrap to three when a shared fact is long (a model or board name)
    fig = new_figure(7.0, height_for(len(runs), ROW_IN, legend_rows=4, title_lines=3))
    halves = fig.subfigures(1, 2, wspace=0.0, width_ratios=[1.35, 1])  # the left one holds the run names
    axes = [halves[0].subplots(), halves[1].subplots()]
    axes[1].sharey(axes[0])
    off_scale = []
    for half, ax, stack, limit_index, what in ((halves[0], axes[0], FLASH_STACK, 0, "flash"),
                                               (halves[1], axes[1], RAM_STACK, 1, "RAM")):
        left = np.zeros(len(runs))
        for k, (column, label, model_part) in enumerate(stack):
            part = runs[column].astype(float).fillna(0).to_numpy() / 1024 if column in runs else np.zeros(len(runs))
            ax.barh(np.arange(len(runs)), part, left=left, height=0.72, color=PART_COLOURS[k],
                    hatch=None if model_part else "////", edgecolor="white", linewidth=0.3,
                    label=f"{label} ({'model' if model_part else 'harness'})")
            left += part
        right = max(float(left.max()) * 1.28, 1.0)
        for y, (_, run) in enumerate(runs.iterrows()):
            ax.text(left[y] + right * 0.01, y, f"{left[y]:,.1f}", va="center", fontsize=5.5)
            limit = (boards or {}).get(str(run["board"]))
            if limit and limit[limit_index] / 1024 <= right:
                ax.plot([limit[limit_index] / 1024] * 2, [y - 0.42, y + 0.42], color="black", lw=1.0)
            elif limit:
                off_scale.append(f"{run['board']} {what} {limit[limit_index] / 1024:,.0f} KiB")
        ax.set_xlim(0, right)
        fit_ticks(ax.xaxis, [right], log=False)
        ax.set_xlabel(f"{what} (KiB)")
        ax.grid(axis="x")
        ax.grid(axis="y", visible=False)
        half.legend(loc="outside lower center", ncols=2)
    axes[1].tick_params(axis="y", labelleft=False)
    axes[0].set_yticks(np.arange(len(runs)), names)
    axes[0].set_ylim(len(runs) - 0.5, -0.5)
    limits = sorted({str(b) for b in runs["board"]} & set(boards or {}))
    off = "; ".join(f"{b} {boards[b][0] / 1024:,.0f} / {boards[b][1] / 1024:,.0f} KiB" for b in limits
                    if any(o.startswith(f"{b} ") for o in off_scale))
    set_title(fig, "Flash and RAM per run: model (solid) vs harness (hatched)" + (f", {common}" if common else "")
              + "\nblack tick: the board's capacity" + (f"; off the scale (flash / RAM): {off}" if off else ""))
    return fig


def plot_memory(df: pd.DataFrame, out_stem: str | Path) -> tuple[Path, Path]:
    with styled():
        return save_figure(build_memory(df), out_stem)


def plot_memory_split(df: pd.DataFrame, out_stem: str | Path, boards: dict[str, tuple[int, int]] | None = None):
    with styled():
        return save_figure(build_memory_split(df, boards), out_stem)
