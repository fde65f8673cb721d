"""The demo's figures (issue 2): instructions per inference and per MAC, arena, flash, wall time.

Runs `tinyhil demo --json` end to end in a fresh temporary directory (training, conversion,
PlatformIO build, 450 samples in QEMU) and times it. Usage: .venv/bin/python benchmarks/demo_figures.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        started = time.monotonic()
        out = subprocess.run([sys.executable, "-m", "harness.cli", "demo", "--json"], cwd=work, text=True,
                             capture_output=True, env=dict(os.environ, PYTHONPATH=str(REPO)), check=False)
        wall = time.monotonic() - started
    if out.returncode != 0:
        sys.exit(f"demo failed:\n{out.stderr[-3000:]}")
    row = json.loads(out.stdout.strip().splitlines()[-1])
    unit = row["unit"]
    figures = [
        (f"{unit} per inference (median of {row['samples']})", f"{row['latency_median']:,}"),
        (f"{unit} per inference (min / max)", f"{row['latency_min']:,} / {row['latency_max']:,}"),
        (f"{unit} per MAC", f"{row['latency_median'] / row['macs']:.2f}  ({row['macs']:,} MACs)"),
        ("timer resolution", f"{row['timer_resolution']:g} {unit}"),
        ("arena used on device", f"{row['arena_bytes']:,} B"),
        ("TFLM arena (total / activations)", f"{row['tflm_arena_bytes']:,} B / {row['tflm_arena_head_bytes']:,} B"),
        ("flash (ELF)", f"{row['flash_bytes']:,} B  (weights {row['flash_weights_bytes']:,} B, "
                        f"test data {row['flash_data_bytes']:,} B)"),
        ("RAM (ELF, incl. stack)", f"{row['ram_bytes']:,} B"),
        ("accuracy float / host TFLM / device", f"{row['accuracy_float']:.4f} / {row['accuracy_host']:.4f} / "
                                                f"{row['accuracy_device']:.4f}"),
        ("outputs differing from host TFLM", f"{row['host_mismatches']} of {row['samples']}"),
        ("end-to-end wall time (train+convert+build+run)", f"{wall:.1f} s"),
    ]
    width = max(len(k) for k, _ in figures)
    print(f"tinyhil demo on {row['board']} ({row['target']}, {row['kernels']} kernels); unit: {unit}")
    for key, value in figures:
        print(f"  {key:<{width}}  {value}")


if __name__ == "__main__":
    main()
