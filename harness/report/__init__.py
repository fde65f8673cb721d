"""Results: the row schema, the CSV/Parquet store with provenance, report transforms, plots."""

from harness.report.console import print_rows, summary_table
from harness.report.plots import NoFigure, plot_memory, plot_pareto, plot_per_layer, save_figure
from harness.report.provenance import code_provenance, provenance, qemu_version, toolchain_version
from harness.report.schema import COLUMNS, RUN_KEYS, ResultRow
from harness.report.store import append_results, load_results, normalize, rows_to_frame
from harness.report.transforms import (
    add_derived,
    failed,
    latest_runs,
    memory_long,
    pareto_front,
    per_layer_long,
    successful,
)

__all__ = [
    "COLUMNS", "NoFigure", "RUN_KEYS", "ResultRow", "add_derived", "append_results", "code_provenance", "failed",
    "latest_runs", "load_results", "memory_long", "normalize", "pareto_front", "per_layer_long",
    "plot_memory", "plot_pareto", "plot_per_layer", "print_rows", "provenance", "qemu_version", "rows_to_frame",
    "save_figure", "successful", "summary_table", "toolchain_version",
]
