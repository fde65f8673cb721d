"""Model versus silicon: the runs measured on a physical board with the estimate beside them.

    python benchmarks/timing_vs_silicon.py [--results results] [--per-layer] [--out table.csv]

`tinyhil bench --target serial` (or labgrid) on a board with DWT records the measured `cycles` and,
in the same row, the timing model's `cycles_est` for the same samples (run once more in QEMU). This
turns every such row into one line: measured cycles, estimated cycles, their ratio, the model
version, and, with --per-layer, the same per layer. Every user with a board can calibrate the model
for everyone by sharing these lines; the model itself is never fitted to them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.report import load_results
from harness.timing.silicon import model_vs_silicon, per_layer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=Path("results"))
    ap.add_argument("--per-layer", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    frame = (per_layer if args.per_layer else model_vs_silicon)(load_results(args.results))
    if frame.empty:
        print(f"no run in {args.results} has both measured cycles (a board with DWT) and an estimate")
        return
    print(frame.to_string(index=False))
    if args.out:
        frame.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
