"""Results: the row schema, the fragment store with provenance, report transforms, plots.

Names are imported on first use (PEP 562), so the store can be used — e.g. to check the results
folder before a run — without loading matplotlib.
"""

from __future__ import annotations

import importlib

# Also a submodule's name: bound now, or importing the submodule would shadow the function.
from harness.report.provenance import provenance as provenance

_WHERE = {
    "print_rows": "console", "summary_table": "console",
    "NoFigure": "plots", "plot_memory": "plots", "plot_pareto": "plots", "plot_per_layer": "plots",
    "save_figure": "plots",
    "code_provenance": "provenance", "qemu_version": "provenance", "toolchain_version": "provenance",
    "COLUMNS": "schema", "RUN_KEYS": "schema", "ResultRow": "schema",
    "append_results": "store", "load_results": "store", "normalize": "store", "rows_to_frame": "store",
    "export_tables": "store", "load_samples_table": "store",
    "add_derived": "transforms", "failed": "transforms", "latest_runs": "transforms", "memory_long": "transforms",
    "pareto_front": "transforms", "per_layer_long": "transforms", "successful": "transforms",
}

__all__ = sorted([*_WHERE, "provenance"])


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
