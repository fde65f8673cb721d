"""Figures of the three questions (PNG + PDF each, every axis with its unit)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harness.report.plots import save_figure


def _short(text: str, width: int = 34) -> str:
    first = str(text).split(";")[0]
    return first if len(first) <= width else "…" + first[-(width - 1):]


def _perturbation_label(name: str) -> str:
    """`noise_20db` → `Gaussian noise, SNR 20 dB`; `fgsm_0.05` → `FGSM, ε = 0.05 (input units)`."""
    kind, _, value = name.partition("_")
    if kind == "noise" and value.endswith("db"):
        return f"Gaussian noise, SNR {value[:-2]} dB"
    if kind == "fgsm":
        return f"FGSM, ε = {value} (input units)"
    return name


def plot_sensitivity(result, out_stem: str | Path) -> tuple[Path, Path]:
    """Left: each layer's own int8 error as SNR (dB), ranked. Right: top-1 (%) with only that layer int8."""
    table = result.table
    labels = [f"{r.rank}. {r.op} {_short(r.tensor)}" for r in table.itertuples()]
    y = np.arange(len(table))
    fig = Figure(figsize=(11, 1.4 + 0.38 * max(1, len(table))), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    snr = table["snr_db"].replace([np.inf, -np.inf], np.nan).astype(float)
    cap = 100.0  # layers that do not requantize (pool, reshape) sit at float round-off, ~150 dB
    left.barh(y, snr.clip(upper=cap).fillna(0), color="tab:red")
    for yi, value in zip(y, snr, strict=True):
        left.annotate(f"{value:.1f}", (min(value, cap) if value == value else 0, yi), textcoords="offset points",
                      xytext=(3, -3), fontsize=7)
    left.set_xlim(0, cap * 1.12)
    left.set_yticks(y, labels, fontsize=8)
    left.invert_yaxis()
    left.set_xlabel("per-layer SNR, int8 vs float output (dB)\nlower = more hurt; axis capped at 100 dB")
    left.grid(axis="x", alpha=0.3)
    right.barh(y - 0.2, table["accuracy_only_this_int8"] * 100, height=0.4, label="only this layer int8")
    right.barh(y + 0.2, table["accuracy_all_but_this_int8"] * 100, height=0.4, label="all but this layer int8")
    for value, style, label in ((result.accuracy_float_tflite, "-", "float"), (result.accuracy_int8, "--", "all int8"),
                                (result.accuracy_int16x8, ":", "16x8 (int16 act.)")):
        right.axvline(value * 100, color="k", linestyle=style, linewidth=1, label=f"{label}: {value * 100:.2f} %")
    shown = [*table["accuracy_only_this_int8"], *table["accuracy_all_but_this_int8"], result.accuracy_int8,
             result.accuracy_float_tflite, result.accuracy_int16x8]
    right.set_xlim(max(0.0, min(shown) * 100 - 2), min(100.0, max(shown) * 100 + 1))
    right.set_xlabel(f"top-1 accuracy (%), {result.test_samples} test samples,\nhost tf.lite interpreter")
    right.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2)
    right.grid(axis="x", alpha=0.3)
    fig.suptitle(f"int8 quantization sensitivity per layer: {result.model} ({result.data})")
    return save_figure(fig, out_stem)


def build_robustness(table: pd.DataFrame, perturbations: list[str]) -> Figure:
    """Clean vs perturbed top-1 (%) per variant, measured on the device, as grouped bars (report style)."""
    from harness.report.style import DOUBLE_COLUMN_IN, METHOD_COLOURS, NoFigure, height_for, new_figure
    from harness.report.style import title as set_title

    variants = list(table["variant"])
    if not variants:
        raise NoFigure("no device-measured variant has perturbed runs")
    series = ["accuracy_device", *[f"accuracy_{p}" for p in perturbations]]
    names = ["clean", *[_perturbation_label(p) for p in perturbations]]
    fig = new_figure(DOUBLE_COLUMN_IN, height_for(len(variants) * len(series), 0.07, legend_rows=1))
    ax = fig.subplots()
    height = 0.8 / len(series)
    y = np.arange(len(variants))
    for k, (column, name) in enumerate(zip(series, names, strict=True)):
        values = pd.to_numeric(table[column], errors="coerce") * 100 if column in table else np.full(len(y), np.nan)
        ax.barh(y + (k - (len(series) - 1) / 2) * height, values, height=height, label=name,
                color=METHOD_COLOURS[k % len(METHOD_COLOURS)], hatch=("", "//", "..", "xx", "\\\\")[k % 5],
                edgecolor="white", linewidth=0.3)
    ax.set_yticks(y, variants)
    ax.set_ylim(len(variants) - 0.5, -0.5)
    ax.set_xlabel("top-1 accuracy on the device (%)")
    ax.set_xlim(0, 100)
    fig.legend(loc="outside lower center", ncols=len(series), title="test set")
    ax.grid(axis="y", visible=False)
    boards = ", ".join(sorted(set(table["board"].astype(str))))
    set_title(fig, f"Clean vs perturbed accuracy per variant (device: {boards}; FGSM made on the float model)")
    return fig


def plot_robustness(table: pd.DataFrame, perturbations: list[str], out_stem: str | Path) -> tuple[Path, Path]:
    from harness.report.style import styled

    with styled():
        return save_figure(build_robustness(table, perturbations), out_stem)
