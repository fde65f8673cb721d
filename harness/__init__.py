"""tinyhil: hardware-in-the-loop benchmarking for TinyML on Cortex-M4.

The Python API (`harness.api`): `bench(model, board=..., target=...)` -> the row (a `ResultRow`,
`.to_series()`), `sweep(models, boards=[...])` -> rows, `load_results(dir)` -> DataFrame. Importing
`harness` stays light: each call imports what it needs.
"""

__version__ = "0.1.0"


def bench(model, *, board, target="qemu", **options):
    """See `harness.api.bench`."""
    from harness.api import bench as _bench

    return _bench(model, board=board, target=target, **options)


def sweep(models, **options):
    """See `harness.api.sweep`."""
    from harness.api import sweep as _sweep

    return _sweep(models, **options)


def load_results(results_dir="results", **options):
    """See `harness.api.load_results`."""
    from harness.api import load_results as _load

    return _load(results_dir, **options)


__all__ = ["__version__", "bench", "load_results", "sweep"]
