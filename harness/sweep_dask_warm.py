"""Imported once, by the fork server a LocalCluster forks its workers from (its preload): what a run
loads on first use, so that every worker starts with it instead of loading it again in its first run.

--jobs's threads share one process and pay this once; each worker process would pay it again: the
pipeline's modules (compiled from source where no .pyc may be written), TFLM's host interpreter,
the plugin registries' entry points, and the tool versions every row names (a subprocess each) —
about a second of CPU per worker on a 2-core machine (`benchmarks/sweep_throughput.py`).
Nothing here may start a thread or open a file a worker would share: it is forked.
"""

from __future__ import annotations

import importlib
import warnings

RUN_MODULES = (  # what harness.pipeline.bench imports lazily, stage by stage
    "harness.sweep_dask_worker", "harness.pipeline.bench", "harness.codegen", "harness.codegen.emit",
    "harness.engines.builtin", "harness.engines.tflm", "harness.engines.external", "harness.reference.tflm",
    "harness.reference.lite", "harness.build.memory_split", "harness.timing.session", "harness.timing.build",
    "harness.targets.kinds", "harness.report.store", "harness.report.fallback", "tflite_micro",
)


def warm() -> None:
    for name in RUN_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - an optional part missing: a run that needs it says so, as before
            pass
    from harness.plugins import ENGINES, TARGETS, TIMING_MODELS
    from harness.report import provenance

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a plugin that fails to load is named by the run that uses it
        for registry in (ENGINES, TARGETS, TIMING_MODELS):
            registry.names()
    provenance.toolchain_version(), provenance.qemu_version(), provenance.tinyhil_version()
    provenance.tinyhil_commit()


try:
    warm()
except Exception:  # noqa: BLE001 - a fork server that cannot warm up still forks workers (they warm up as they run)
    pass
