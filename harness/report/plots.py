"""The report's figures, one module each, all drawn in one style (`style.py`): `pareto`, `memory`
(and `memory_split`), `per_layer`, `engines`. Each `plot_*` writes PNG + PDF, or raises `NoFigure`
(the data it needs is absent: no figure is better than an empty or broken one)."""

from __future__ import annotations

from harness.report.engines import plot_engines
from harness.report.memory import plot_memory, plot_memory_split
from harness.report.pareto import plot_pareto
from harness.report.per_layer import plot_per_layer
from harness.report.style import NoFigure, save_figure

__all__ = ["NoFigure", "plot_engines", "plot_memory", "plot_memory_split", "plot_pareto", "plot_per_layer",
           "save_figure"]
