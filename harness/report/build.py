"""`tinyhil report`'s outputs from one results table: every figure (PNG + PDF, one style, one colour per
method and per engine across all of them), the comparison table (CSV + LaTeX) and `index.html` showing
them on one page. A figure whose data is absent is not written (an old copy is removed) and the
report says why in one line; a figure whose layout check or PDF font check finds a problem says so."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harness.report.engines import build_engines
from harness.report.facts import Latency, with_facts
from harness.report.layout_check import layout_problems
from harness.report.memory import build_memory, build_memory_split
from harness.report.paper import comparison_styler, comparison_table, write_comparison
from harness.report.pareto import build_pareto
from harness.report.per_layer import build_per_layer, build_per_layer_estimate
from harness.report.style import ENGINE_COLOURS, NoFigure, SeriesStyles, pdf_font_problems, save_figure, styled
from harness.report.transforms import latest_runs, successful, unperturbed


@dataclass
class Written:
    """One output of the report: its files, or why it was not written, and any problem found in it."""

    name: str
    files: list[Path] = field(default_factory=list)
    skipped: str = ""
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        if self.skipped:
            return f"{self.name}: not written: {self.skipped}"
        text = f"{self.name}: {' and '.join(map(str, self.files))}"
        return text + (f" (check: {'; '.join(self.problems[:3])})" if self.problems else "")


def write_report(table: pd.DataFrame, out: Path, *, latency: Latency = Latency(),
                 boards: dict[str, tuple[int, int]] | None = None) -> list[Written]:
    """Write every figure, the comparison table and index.html into `out`; return what was written."""
    latency.check(table)
    clean = unperturbed(table)
    runs = with_facts(successful(latest_runs(clean)))
    methods = SeriesStyles(runs["method"][runs["method"].astype(bool)])
    engines = SeriesStyles(runs["engine_set"], ENGINE_COLOURS)
    pareto_styles = methods if runs["method"].astype(bool).any() else engines
    figures = (
        ("pareto", lambda: build_pareto(clean, latency, pareto_styles)),
        ("memory", lambda: build_memory(clean)),
        ("memory_split", lambda: build_memory_split(clean, boards)),
        ("per_layer", lambda: build_per_layer(table, engines)),
        ("per_layer_est", lambda: build_per_layer_estimate(table, engines)),
        ("engines", lambda: build_engines(clean, engines)),
    )
    written = [_figure(name, build, out) for name, build in figures]
    if "perturb_clean_run_id" in table.columns and table["perturb_clean_run_id"].notna().any():
        written.append(_figure("robustness", lambda: _robustness(table), out))
    if runs.empty:
        written.append(Written("comparison", skipped="no successful run"))
    else:
        written.append(Written("comparison", files=list(write_comparison(clean, out / "comparison"))))
    written.append(Written("index", files=[write_index(out, written, clean)]))
    return written


def _figure(name: str, build, out: Path) -> Written:
    stem = out / name
    try:
        with styled():
            fig = build()
            problems = layout_problems(fig)
            png, pdf = save_figure(fig, stem)
    except NoFigure as why:
        for old in (stem.with_suffix(".png"), stem.with_suffix(".pdf")):
            old.unlink(missing_ok=True)  # a figure from an earlier table would now be wrong
        return Written(name, skipped=str(why))
    return Written(name, files=[png, pdf], problems=problems + pdf_font_problems(pdf))


def _robustness(table: pd.DataFrame):
    from harness.questions.plots import build_robustness
    from harness.questions.robustness import perturbation_columns, robustness_table

    joined = robustness_table(table)
    return build_robustness(joined, perturbation_columns(joined))


def write_index(out: Path, written: list[Written], table: pd.DataFrame) -> Path:
    """`index.html`: every figure written (PNG, linking its PDF), what was not and why, and the table."""
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>tinyhil report</title>",
             "<style>body{font-family:sans-serif;max-width:80em;margin:auto}img{max-width:100%}"
             "table{border-collapse:collapse;font-size:80%}td,th{padding:2px 6px;border-bottom:1px solid #ccc}"
             "td{text-align:right}</style></head><body><h1>tinyhil report</h1>"]
    for item in written:
        if item.skipped:
            parts.append(f"<p><b>{html.escape(item.name)}</b>: not written: {html.escape(item.skipped)}</p>")
        elif item.files and item.files[0].suffix == ".png":
            png, pdf = item.files[0].name, item.files[1].name
            parts.append(f"<h2>{html.escape(item.name)}</h2><figure><img src='{html.escape(png)}' "
                         f"alt='{html.escape(item.name)}'><figcaption><a href='{html.escape(pdf)}'>PDF</a>"
                         "</figcaption></figure>")
    if not successful(table).empty:
        parts.append("<h2>comparison</h2><p><a href='comparison.csv'>CSV</a> · <a href='comparison.tex'>LaTeX</a></p>")
        parts.append(comparison_styler(comparison_table(table), "html").to_html())
    parts.append("</body></html>")
    path = out / "index.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
