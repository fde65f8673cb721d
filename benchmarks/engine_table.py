"""The builtin engine against TFLM + CMSIS-NN on the four MLPerf Tiny models (issues 3 and 11): MACs,
emulator instructions per MAC of the builtin engine (optimized kernels; `--reference` adds the plain C
kernels), the same for TFLM, arena against TFLM's activation plan, flash (of it: the engine kernels
linked in, the model constants).

Models: MLPerf Tiny IC (ResNet-8), KWS (DS-CNN), VWW (MobileNet) and AD (FC autoencoder) from
../shared/models or the zoo (`tinyhil zoo fetch mlperf-tiny`), and the demo's digits CNN. Each runs on
QEMU mps2-an386 (-icount shift=0): the counts are emulator instructions, not cycles. The TFLM columns
need a TFLM tree (TINYHIL_TFLM_DIR, see README); without one they are printed as "absent".
Rows are also appended to results/. Usage: .venv/bin/python benchmarks/engine_table.py [--samples N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from rich.console import Console

from harness import zoo
from harness.bench import BenchConfig, run_bench
from harness.demo_model import build_demo_model

MODELS = ("ic", "kws", "vww", "ad")


def tflm_available() -> bool:
    return bool(os.environ.get("TINYHIL_TFLM_DIR")) and Path(os.environ["TINYHIL_TFLM_DIR"]).is_dir()


def _per_mac(row: dict | None) -> str:
    if row is None:
        return "absent"
    if row.get("error"):
        return "error"
    return f"{row['latency_median'] / row['macs']:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--board", default="mps2_an386")
    parser.add_argument("--reference", action="store_true", help="also run the plain C reference kernels")
    parser.add_argument("--models", nargs="*", default=[*MODELS, "demo"], help="ic kws vww ad demo")
    args = parser.parse_args()
    quiet = Console(stderr=True, quiet=True)
    runs_of = [("optimized", "builtin")] + ([("reference", "builtin")] if args.reference else [])
    if tflm_available():
        runs_of.append(("optimized", "tflm"))
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name in args.models:
            model = build_demo_model(Path(work) / "demo").tflite_path if name == "demo" else zoo.reference_model(name)
            runs = {}
            for kernels, engine in runs_of:
                cfg = BenchConfig(model=model, board=args.board, samples=args.samples, kernels=kernels,
                                  engine=engine, work_dir=Path(work) / "build")
                runs[(kernels, engine)] = run_bench(cfg, console=quiet)
            rows.append((name, runs))
    print(f"board {args.board}, QEMU -icount shift=0: counts are emulator instructions, not cycles (median of "
          f"{args.samples} random inputs); TFLM = TFLM + CMSIS-NN through --engine tflm"
          + ("" if tflm_available() else " (absent: no TINYHIL_TFLM_DIR tree)"))
    print(f"{'model':<6} {'MACs':>11} {'instr builtin':>14} {'/MAC builtin':>12} {'/MAC ref':>9} {'/MAC TFLM':>10} "
          f"{'ratio':>6} {'arena':>7} {'TFLM head':>9} {'flash':>8} {'kernels':>7} {'weights':>8} {'mismatch':>8}")
    for name, runs in rows:
        opt = runs[("optimized", "builtin")]
        ref, tflm = runs.get(("reference", "builtin")), runs.get(("optimized", "tflm"))
        ratio = (f"{tflm['latency_median'] / opt['latency_median']:.2f}"
                 if tflm and not tflm.get("error") else "absent")
        mismatches = sum(r.get("host_mismatches") or 0 for r in runs.values())
        print(f"{name:<6} {opt['macs']:>11,} {opt['latency_median']:>14,.0f} {_per_mac(opt):>12} "
              f"{_per_mac(ref) if args.reference else '-':>9} {_per_mac(tflm):>10} {ratio:>6} "
              f"{opt['arena_bytes']:>7,} {opt['tflm_arena_head_bytes']:>9,} {opt['flash_bytes']:>8,} "
              f"{opt.get('flash_kernels_bytes') or 0:>7,} {opt.get('flash_weights_bytes') or 0:>8,} {mismatches:>8}")


if __name__ == "__main__":
    main()
