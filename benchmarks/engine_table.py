"""The builtin engine against TFLM (issue 3): MACs, emulator instructions, instructions/MAC for the
optimized and the reference kernels, arena against TFLM's arena, flash.

Models: MLPerf Tiny IC (ResNet-8) and KWS (DS-CNN) from ../shared/models or the zoo, and the demo's
digits CNN. Each runs on QEMU mps2-an386 (-icount shift=0): the counts are instructions, not cycles.
Rows are also appended to results/. Usage: .venv/bin/python benchmarks/engine_table.py [--samples N]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rich.console import Console

from harness import zoo
from harness.bench import BenchConfig, run_bench
from harness.demo_model import build_demo_model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--board", default="mps2_an386")
    args = parser.parse_args()
    quiet = Console(stderr=True, quiet=True)
    with tempfile.TemporaryDirectory() as work:
        models = [zoo.reference_model("ic"), zoo.reference_model("kws"),
                  build_demo_model(Path(work) / "demo").tflite_path]
        rows = []
        for model in models:
            runs = {}
            for kernels in ("optimized", "reference"):
                cfg = BenchConfig(model=model, board=args.board, samples=args.samples, kernels=kernels,
                                  work_dir=Path(work) / "build")
                runs[kernels] = run_bench(cfg, console=quiet)
            rows.append(runs)
    header = (f"{'model':<28} {'MACs':>11} {'instr opt':>12} {'instr ref':>12} {'/MAC opt':>9} {'/MAC ref':>9} "
              f"{'arena':>7} {'TFLM head':>9} {'TFLM total':>10} {'flash':>8} {'code':>7} {'weights':>8} "
              f"{'mismatch':>8}")
    print(f"board {args.board}, QEMU -icount shift=0: counts are emulator instructions (median of "
          f"{args.samples} random inputs)")
    print(header)
    for runs in rows:
        opt, ref = runs["optimized"], runs["reference"]
        print(f"{opt['model'][:28]:<28} {opt['macs']:>11,} {opt['latency_median']:>12,} {ref['latency_median']:>12,} "
              f"{opt['latency_median'] / opt['macs']:>9.2f} {ref['latency_median'] / ref['macs']:>9.2f} "
              f"{opt['arena_bytes']:>7,} {opt['tflm_arena_head_bytes']:>9,} {opt['tflm_arena_bytes']:>10,} "
              f"{opt['flash_bytes']:>8,} {opt['flash_code_bytes']:>7,} {opt['flash_weights_bytes']:>8,} "
              f"{opt['host_mismatches'] + ref['host_mismatches']:>8}")


if __name__ == "__main__":
    main()
