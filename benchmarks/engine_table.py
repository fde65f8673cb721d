"""The builtin engine, TFLM + CMSIS-NN and TFLM's reference kernels side by side on the four MLPerf Tiny
models (issues 3, 9 and 11): emulator instructions per MAC, the whole arena used (persistent +
non-persistent), and the engine's kernel code in flash (`flash_kernels_bytes`); bit-exactness against
host TFLM. The project's TFLM figures are set against TFLM's own make build of the same commit
(BUILD_TYPE=release, cortex_m_generic, measured on QEMU mps2-an386 -icount shift=0) and must match
within 5 %.

Models: MLPerf Tiny IC (ResNet-8), KWS (DS-CNN), VWW (MobileNet) and AD (FC autoencoder) from
../shared/models or the zoo (`tinyhil zoo fetch mlperf-tiny`). Each runs in QEMU with -icount shift=0:
the counts are emulator instructions, not cycles. The TFLM columns need TFLM trees
(TINYHIL_TFLM_DIR_CMSIS_NN, TINYHIL_TFLM_DIR_REFERENCE, or TINYHIL_TFLM_DIR; see
firmware/engine_tflm/README.md); a kernel set without a tree is printed as "absent". Rows are also
appended to results/. Usage:
    .venv/bin/python benchmarks/engine_table.py [--samples N] [--board B ...] [--models ic kws vww ad]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rich.console import Console

from harness import zoo
from harness.build.tflm_lib import TflmTreeError, configured_trees
from harness.errors import TinyhilError
from harness.pipeline import BenchConfig, run_bench

SHARED = Path(__file__).resolve().parents[2] / "shared" / "models"  # the project's copies, when present

MODELS = ("ic", "kws", "vww", "ad")
ENGINES = (("builtin", "optimized", "builtin"), ("tflm", "cmsis-nn", "TFLM+CMSIS-NN"),
           ("tflm", "reference", "TFLM ref"))
# TFLM's own make build (release), instructions per MAC on mps2-an386 -icount shift=0 (issue 9)
TFLM_MAKE = {("ic", "reference"): 8.59, ("kws", "reference"): 16.24, ("ic", "cmsis-nn"): 2.39,
             ("kws", "cmsis-nn"): 2.90}
TOLERANCE = 0.05


def available_kernels() -> set[str]:
    try:
        return set(configured_trees())
    except TflmTreeError:
        return set()


def run_one(model: Path, board: str, engine: str, kernels: str, samples: int, work: Path) -> dict:
    cfg = BenchConfig(model=model, board=board, samples=samples, kernels=kernels, engine=engine,
                      work_dir=work / "build")
    try:
        return run_bench(cfg, console=Console(stderr=True, quiet=True))
    except TinyhilError as e:  # a model that does not fit a board, say: the row says why
        return getattr(e, "row", None) or {"error": str(e)}


def cell(row: dict | None, key: str, fmt: str) -> str:
    if row is None:
        return "absent"
    if row.get("status") != "ok":
        return "error" if "not fit" not in str(row.get("error")) else "no fit"
    value = row.get(key)
    return "-" if value is None else format(value, fmt)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--board", action="append", help="board (repeat); default mps2_an386 and netduinoplus2")
    parser.add_argument("--models", nargs="*", default=list(MODELS), help="ic kws vww ad")
    args = parser.parse_args()
    boards = args.board or ["mps2_an386", "netduinoplus2"]
    have = available_kernels()
    runs: dict = {}
    with tempfile.TemporaryDirectory() as work:
        for board in boards:
            for name in args.models:
                model = zoo.reference_model(name, prefer=[SHARED])
                for engine, kernels, _ in ENGINES:
                    if engine == "builtin" or kernels in have:
                        runs[(board, name, kernels)] = run_one(model, board, engine, kernels, args.samples, Path(work))
    print(f"QEMU -icount shift=0: counts are emulator instructions, not cycles (median of {args.samples} random "
          "inputs); arena = persistent + non-persistent bytes used; kernels = flash_kernels_bytes")
    for board in boards:
        print(f"\nboard {board}")
        head = f"{'model':<5} {'MACs':>10}"
        for _, _, label in ENGINES:
            head += f" | {label + ' /MAC':>18} {'arena':>7} {'kernels':>7} {'mism':>4}"
        print(head)
        for name in args.models:
            rows = [runs.get((board, name, kernels)) for _, kernels, _ in ENGINES]
            macs = next((r["macs"] for r in rows if r and r.get("macs")), 0)
            line = f"{name:<5} {macs:>10,}"
            for row in rows:
                line += (f" | {cell(row, 'instructions_per_mac', '.2f'):>18} {cell(row, 'arena_bytes', ','):>7} "
                         f"{cell(row, 'flash_kernels_bytes', ','):>7} {cell(row, 'host_mismatches', 'd'):>4}")
            print(line)
    print("\nTFLM through tinyhil against TFLM's own make build (release, mps2-an386), instructions/MAC:")
    for (name, kernels), expected in TFLM_MAKE.items():
        row = runs.get(("mps2_an386", name, kernels))
        if row is None or row.get("status") != "ok":
            print(f"  {name:<4} {kernels:<9} make {expected:>5.2f}  tinyhil {cell(row, 'instructions_per_mac', '.2f')}")
            continue
        got = row["instructions_per_mac"]
        verdict = "within 5 %" if abs(got / expected - 1) <= TOLERANCE else "OFF BY MORE THAN 5 %"
        print(f"  {name:<4} {kernels:<9} make {expected:>5.2f}  tinyhil {got:>5.2f}  ({got / expected - 1:+.1%}, "
              f"{verdict}; tree {row.get('tflm_tree')} @ {str(row.get('tflm_commit'))[:12]}, "
              f"build {row.get('tflm_build_type')})")


if __name__ == "__main__":
    main()
