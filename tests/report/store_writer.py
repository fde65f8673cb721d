"""A stand-in for a sweep's store writes — the store append path without a build or an emulator —
for the SIGKILL test in test_store_safety.py.

Usage: python store_writer.py RESULTS_DIR N
Stores runs run-000 .. run-N-1 that the table does not hold yet (resuming, as a sweep does), each
with 500 samples, prints `ready`, then `stored RUN_ID ATTEMPT_ID` once its append has returned.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from harness.report import compaction
from harness.report.fallback import store_or_keep
from harness.report.store import load_results

compaction.COMPACT_AT, compaction.FANOUT = 3, 3  # compactions at every level, so kills land in them too


def figures(i: int) -> dict:
    """The run's figures: a pure function of its number, so the test can check them."""
    return {"latency_median": 1000.0 + i, "macs": 100 + i, "samples": 500, "unit": "instructions"}


def main() -> None:
    results, n = Path(sys.argv[1]), int(sys.argv[2])
    done = set(load_results(results)["run_id"].dropna())
    print("ready", flush=True)  # imports and the resume read done: the test's random kill starts now
    for i in range(n):
        run_id = f"run-{i:03d}"
        if run_id in done:
            continue
        attempt = uuid.uuid4().hex[:16]
        row = {"model": "standin", "board": "mps2_an386", "target": "qemu", "engine": "builtin", "run_id": run_id,
               "attempt_id": attempt, "status": "ok", **figures(i)}
        samples = pd.DataFrame({"run_id": run_id, "attempt_id": attempt, "sample": np.arange(500),
                                "latency": np.full(500, 1000.0 + i), "unit": "instructions"})
        store_or_keep(row, samples, results)
        print(f"stored {run_id} {attempt}", flush=True)


if __name__ == "__main__":
    main()
