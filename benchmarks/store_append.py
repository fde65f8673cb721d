"""What one append to the results store costs as the table grows, and what reading it costs.

Usage: python benchmarks/store_append.py [--sizes 10 1000 10000 100000] [--appends 25] [--run-samples 450]
                                         [--prefill-samples 45]

For each size N a fresh store is filled with N rows (one segment, as a compaction leaves it; each
row a full result row with `--prefill-samples` samples in the per-sample table), then `--appends`
runs are appended to each the way `tinyhil bench` stores a run (`append_results`: one row and its
`--run-samples` samples, each fsync'ed), taking turns between the sizes (round k appends to every
store, starting at a different size each round), so a burst of load on a shared machine hits all
sizes alike rather than one. Printed: every append's wall time (the series), their median and its
ratio to the first size's; then the time to read the whole table (`load_results`)
and its samples (`load_samples_table`), twice (the first read of a process warms caches), and to
compact `COMPACT_AT` loose fragments (what an append pays every COMPACT_AT appends); and how long
`tinyhil bench` takes to refuse a results path that is a file. Wall-clock seconds on this machine,
local disk.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from harness.report.compaction import COMPACT_AT, compact
from harness.report.store import append_frames, append_results, load_results, load_samples_table, normalize

ROW = {  # a typical emulator row: identity, figures, memory split, provenance
    "model": "kws", "board": "mps2_an386", "target": "qemu", "engine": "builtin", "kernels": "optimized",
    "status": "ok", "unit": "instructions", "samples": 450, "latency_median": 4_712_345.0,
    "latency_p90": 4_712_400.0, "latency_min": 4_712_300.0, "latency_max": 4_712_480.0, "latency_distinct": 3,
    "latency_raw_median": 4_712_385.0, "timer_resolution": 40, "macs": 2_650_000, "arena_bytes": 23_040,
    "tflm_arena_bytes": 30_000, "flash_bytes": 91_000, "ram_bytes": 40_000, "host_mismatches": 0,
    "accuracy_device": 0.91, "accuracy_host": 0.91, "clock_hz": 25_000_000, "wall_time_s": 12.5,
    "toolchain_version": "arm-none-eabi-gcc 12.2.1", "qemu_version": "qemu-system-arm 7.2.0",
}


def _row(i: int) -> dict:
    return {**ROW, "run_id": f"{i:016x}", "attempt_id": uuid.uuid4().hex[:16], "latency_median": 4e6 + i}


def _samples(row: dict, n: int) -> pd.DataFrame:
    count = np.full(n, row["latency_median"])
    return pd.DataFrame({"run_id": row["run_id"], "attempt_id": row["attempt_id"], "sample": np.arange(n),
                         "latency": count, "latency_raw": count + 40, "latency_profiled": np.nan,
                         "unit": "instructions", "host_match": True, "predicted": 3, "label": 3, "correct": True})


def prefill(folder: Path, rows: int, per_row: int) -> None:
    table = normalize(pd.DataFrame.from_records([_row(i) for i in range(rows)]))
    n = rows * per_row
    samples = pd.DataFrame({"run_id": np.repeat(table["run_id"].to_numpy(), per_row),
                            "attempt_id": np.repeat(table["attempt_id"].to_numpy(), per_row),
                            "sample": np.tile(np.arange(per_row), rows), "latency": np.full(n, 4e6),
                            "latency_raw": np.full(n, 4e6 + 40), "latency_profiled": np.full(n, np.nan),
                            "unit": "instructions", "host_match": True, "predicted": 3, "label": 3, "correct": True})
    append_frames(folder, table, samples, key=f"seg-prefill-{rows}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 1_000, 10_000, 100_000])
    ap.add_argument("--appends", type=int, default=25, help="appends timed per size")
    ap.add_argument("--run-samples", type=int, default=450, help="samples of each appended run")
    ap.add_argument("--prefill-samples", type=int, default=45, help="samples of each prefilled row")
    args = ap.parse_args()
    print(f"one append = one row + {args.run_samples} samples; prefilled rows carry {args.prefill_samples} samples; "
          f"{args.appends} appends per size, taking turns")
    with tempfile.TemporaryDirectory(prefix="tinyhil-store-") as tmp:
        folders = {size: Path(tmp) / f"results-{size}" for size in args.sizes}
        for size, folder in folders.items():
            prefill(folder, size, args.prefill_samples)
        series: dict[int, list[float]] = {size: [] for size in args.sizes}
        for k in range(args.appends):
            turn = args.sizes[k % len(args.sizes):] + args.sizes[: k % len(args.sizes)]
            for size in turn:
                row = _row(size + k)
                samples = _samples(row, args.run_samples)
                started = time.perf_counter()
                append_results([row], folders[size], samples=samples)
                series[size].append(time.perf_counter() - started)
        first = statistics.median(series[args.sizes[0]])
        for size, folder in folders.items():
            median = statistics.median(series[size])
            read_s, samples_s = [], []
            for _ in range(2):  # the first read of a process pays for warming caches; the second is steady
                started = time.perf_counter()
                table = load_results(folder)
                read_s.append(time.perf_counter() - started)
                started = time.perf_counter()
                samples = load_samples_table(folder)
                samples_s.append(time.perf_counter() - started)
            assert len(table) == size + args.appends
            print(f"{size:>7} rows ({len(samples):>9,} samples): append median {median * 1e3:6.1f} ms "
                  f"({median / first:4.2f}x the first size); series ms: "
                  + " ".join(f"{s * 1e3:.0f}" for s in series[size]))
            print(f"{'':>7}       read (first, again): table {read_s[0]:5.2f} s, {read_s[1]:5.2f} s; samples "
                  f"{samples_s[0]:5.2f} s, {samples_s[1]:5.2f} s")
    with tempfile.TemporaryDirectory(prefix="tinyhil-store-") as tmp:
        folder = Path(tmp) / "results"
        for k in range(COMPACT_AT - 1):
            row = _row(k)
            append_frames(folder, normalize(pd.DataFrame.from_records([row])), _samples(row, args.run_samples))
        started = time.perf_counter()
        merged = compact(folder)
        print(f"compaction of {merged} loose fragments (rows and samples, {COMPACT_AT - 1} runs): "
              f"{time.perf_counter() - started:.2f} s, paid by one append in {COMPACT_AT}")
        refusal(Path(tmp))


def refusal(tmp: Path) -> None:
    """How long `tinyhil bench` takes to refuse a results path that is a file (a whole process)."""
    (tmp / "results-file").write_text("not a folder")
    command = [sys.executable, "-m", "harness.cli", "bench", "m.tflite", "--board", "mps2_an386", "--results",
               str(tmp / "results-file")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                                       os.environ.get("PYTHONPATH", "")]))
    times = []
    for _ in range(3):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - started)
    print(f"`tinyhil bench --results FILE` refused (exit {done.returncode}, {done.stderr.strip()[:60]}...) in "
          f"{min(times):.2f}-{max(times):.2f} s (whole process, 3 tries)")


if __name__ == "__main__":
    main()
