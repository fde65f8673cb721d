"""Accuracy vs latency, one panel per board (and unit): every run a marker (colour and shape per
method, or per engine when the runs are not compression variants; fill per engine when both vary),
the Pareto front as a step line, points that coincide merged into one label, labels placed by
adjustText without overlap — or numbered markers with a key below when there are too many."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from adjustText import adjust_text
from matplotlib.lines import Line2D

from harness.report.facts import Latency, caption, shared, varying, with_facts
from harness.report.layout_check import visible_texts
from harness.report.style import (
    NoFigure,
    SeriesStyles,
    fit_ticks,
    new_figure,
    save_figure,
    scale_for,
    styled,
    width_for,
)
from harness.report.style import (
    title as set_title,
)
from harness.report.transforms import latest_runs, pareto_front, successful, unperturbed

FILLS = ("full", "none", "left", "bottom", "right", "top")
MAX_TEXT_LABELS = 8  # per panel; more get numbers and a key


def series_of(runs: pd.DataFrame) -> tuple[str, str | None]:
    """(fact coloured, fact drawn as fill): the method for compression variants, else the engine."""
    if runs["method"].astype(bool).any():
        return "method", ("engine_set" if runs["engine_set"].nunique() > 1 else None)
    return "engine_set", None


def build_pareto(df: pd.DataFrame, latency: Latency = Latency(), styles: SeriesStyles | None = None, *,
                 numbered: bool | None = None):
    """The figure; `numbered` None: text labels where they fit without overlap, else numbers and a key."""
    runs = with_facts(successful(latest_runs(unperturbed(df))))
    runs = runs.dropna(subset=["accuracy_device"])
    panels = []
    for group, values, label in latency.panels(runs):
        group = group.assign(_x=values).dropna(subset=["_x"])
        for board in sorted(group["board"].astype(str).unique()):
            panels.append((group[group["board"].astype(str) == board], label))
    if not panels:
        raise NoFigure("no successful run has both a latency and an accuracy measured on the device")
    everything = pd.concat([p for p, _ in panels])
    colour_fact, fill_fact = series_of(everything)
    styles = styles or SeriesStyles(everything[colour_fact])
    fills = {name: FILLS[i % len(FILLS)] for i, name in enumerate(sorted(everything[fill_fact].unique()))} \
        if fill_fact else {}
    label_facts = [f for f in varying(everything) if f not in (colour_fact, fill_fact, "board", "target")]
    spots = [_spots(group, label_facts) for group, _ in panels]
    force_numbers = numbered if numbered is not None else any(len(s) > MAX_TEXT_LABELS for s in spots)
    keys = _keys(spots) if force_numbers else []
    ncols = min(2, len(panels))
    width = width_for(ncols)
    key_texts = _key_columns(keys, max(1, int(width / 1.75)), width)
    key_lines = max((t.count("\n") + 1 for t in key_texts), default=0)
    common = shared(everything)
    nrows = math.ceil(len(panels) / ncols)
    panel_height = width / ncols * 0.78
    key_height = key_lines * 5.5 * 1.25 * 1.2 / 72 + 0.05 if keys else 0.0
    fig = new_figure(width, 0.55 + nrows * panel_height + key_height)
    grid = fig.add_gridspec(nrows + bool(keys), ncols,
                            height_ratios=[panel_height] * nrows + ([key_height] if keys else []))
    texts = []
    for k, (group, label) in enumerate(panels):
        ax = fig.add_subplot(grid[k // ncols, k % ncols])
        _draw_panel(ax, group, label, colour_fact, fill_fact, styles, fills)
        if "board" not in common:
            ax.set_title(f"{group['board'].iloc[0]} ({group['target'].iloc[0]})")
        strings = [s[2] for s in spots[k]]
        if force_numbers:
            first = sum(len(s) for s in spots[:k]) + 1
            strings = [str(first + i) for i in range(len(spots[k]))]
        texts.append((ax, strings))
    _legend(fig, everything, colour_fact, fill_fact, styles, fills)
    set_title(fig, "Accuracy vs latency" + (f": {caption(common)}" if caption(common) else ""))
    if keys:
        _key(fig.add_subplot(grid[nrows, :]), key_texts)
    placed = [t for (ax, strings), s in zip(texts, spots, strict=True) if strings for t in _place(ax, s, strings)]
    if not force_numbers and _overlapping(fig, placed):
        return build_pareto(df, latency, styles, numbered=True)
    return fig


def _draw_panel(ax, group, label, colour_fact, fill_fact, styles, fills) -> None:
    group = pareto_front(group.assign(latency_median=group["_x"], unit="same"))
    x, y = group["_x"].to_numpy(float), group["accuracy_device"].to_numpy(float) * 100
    for (series, fill), rows in group.groupby([colour_fact, fill_fact or colour_fact], sort=True):
        style = styles[series]
        mine = group.index.isin(rows.index)
        ax.plot(x[mine], y[mine], linestyle="none", marker=style.marker, color=style.colour,
                fillstyle=fills.get(fill, "full"), markerfacecoloralt="white", zorder=3)
    front = group["on_pareto_front"].to_numpy(bool)
    order = np.argsort(x[front])
    ax.step(x[front][order], y[front][order], where="post", color="0.2", linewidth=0.8, zorder=2)
    log = fit_ticks(ax.xaxis, x, scale=1.0)
    scale, prefix = (1.0, "") if log else scale_for(float(np.nanmax(x)))
    if not log:
        fit_ticks(ax.xaxis, x, scale=scale, log=False)
    name, _, unit = label.partition(" (")
    ax.set_xlabel(f"{name} ({prefix}{unit}" if prefix else label)
    fit_ticks(ax.yaxis, y, log=False)
    ax.margins(x=0.08, y=0.12)
    low, high = ax.get_ylim()
    ax.set_ylim(low, min(high, 100.5))  # accuracy: nothing above 100 %
    ax.set_ylabel("accuracy on the device (%)")
    ax.grid(True, which="major")


def _spots(group: pd.DataFrame, facts: list[str]) -> list[tuple[float, float, str]]:
    """One label per place: runs that coincide (same latency to 4 digits, same accuracy) share it,
    listing them. No label facts (the legend tells every point apart): no labels."""
    if not facts:
        return []
    x, y = group["_x"].to_numpy(float), group["accuracy_device"].to_numpy(float) * 100
    names = group[facts].astype("string").fillna("?").apply(lambda r: " / ".join(r), axis=1).to_numpy(str)
    places: dict[tuple, list[int]] = {}
    for i in range(len(group)):
        places.setdefault((float(f"{x[i]:.4g}"), round(float(y[i]), 3)), []).append(i)
    spots = [(x[ix[0]], y[ix[0]], ", ".join(dict.fromkeys(names[i] for i in ix))) for ix in places.values()]
    return sorted(spots, key=lambda s: (s[0], -s[1]))


def _keys(spots: list[list[tuple]]) -> list[str]:
    flat = [s[2] for panel in spots for s in panel]
    return [f"{k}: {name}" for k, name in enumerate(flat, start=1)]


def _place(ax, spots, strings):
    ax.figure.draw_without_rendering()  # constrained layout first: adjustText works in display space
    to_data = ax.transData.inverted()
    texts = []
    for (sx, sy, _), s in zip(spots, strings, strict=True):
        px, py = ax.transData.transform((sx, sy))
        tx, ty = to_data.transform((px + 3, py + 2))  # start beside the marker, up and right
        texts.append(ax.text(tx, ty, textwrap.fill(s, 26), fontsize=5.5, zorder=5, linespacing=1.1))
    for t in texts:
        t.set_in_layout(False)  # inside the axes: placing them must not move the layout
    adjust_text(texts, x=[s[0] for s in spots], y=[s[1] for s in spots], ax=ax, iter_lim=400,
                ensure_inside_axes=True, expand=(1.15, 1.3),
                arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.4})
    return texts


def _overlapping(fig, texts) -> bool:
    """A placed label on another text, or out of its axes."""
    boxes = visible_texts(fig)
    mine = [(t, box) for t, box in boxes if t in texts]
    for t, box in mine:
        if not t.axes.bbox.contains(box.x0, box.y0) or not t.axes.bbox.contains(box.x1, box.y1):
            return True
        if any(box.overlaps(other) for o, other in boxes if o is not t):
            return True
    return False


def _legend(fig, runs, colour_fact, fill_fact, styles, fills) -> None:
    handles = [Line2D([], [], linestyle="none", marker=styles[n].marker, color=styles[n].colour, label=n)
               for n in sorted(runs[colour_fact].unique())]
    handles += [Line2D([], [], linestyle="none", marker="o", color="0.2", fillstyle=fill, markerfacecoloralt="white",
                       label=name) for name, fill in fills.items()]
    handles.append(Line2D([], [], color="0.2", linewidth=0.8, label="Pareto front"))
    ncols = max(1, min(len(handles), int(fig.get_figwidth() / 1.15)))
    fig.legend(handles=handles, loc="outside lower center", ncols=ncols, columnspacing=1.0, handletextpad=0.3)


def _key_columns(keys: list[str], columns: int, width: float) -> list[str]:
    """The numbered labels wrapped to their column's width and dealt into `columns` texts, whole entries
    per column, columns about equally long."""
    if not keys:
        return []
    chars = int(width / columns * 72 / (5.5 * 0.62))
    entries = [textwrap.fill(k, chars, subsequent_indent="    ") for k in keys]
    total = sum(e.count("\n") + 1 for e in entries)
    per_column, texts, current, lines = math.ceil(total / columns), [], [], 0
    for entry in entries:
        n = entry.count("\n") + 1
        if current and lines + n > per_column and len(texts) < columns - 1:
            texts.append("\n".join(current))
            current, lines = [], 0
        current.append(entry)
        lines += n
    return [*texts, "\n".join(current)]


def _key(ax, texts: list[str]) -> None:
    """The numbered labels, in columns under the panels."""
    ax.axis("off")
    columns = max(1, int(ax.figure.get_figwidth() / 1.75))
    for c, text in enumerate(texts):
        ax.text(c / columns, 1.0, text, transform=ax.transAxes, va="top", ha="left", fontsize=5.5, linespacing=1.25)


def plot_pareto(df: pd.DataFrame, out_stem: str | Path, latency: Latency = Latency(),
                styles: SeriesStyles | None = None) -> tuple[Path, Path]:
    """Write `<out_stem>.png` and `.pdf`; raises `NoFigure` when no run has latency and accuracy."""
    with styled():
        return save_figure(build_pareto(df, latency, styles), out_stem)
