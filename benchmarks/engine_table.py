"""The builtin engine (`--optimize speed` and `size`), TFLM + CMSIS-NN and TFLM's reference kernels side
by side on the four MLPerf Tiny models (issues 3, 9, 11 and 21): emulator instructions per MAC, the
whole arena used (persistent + non-persistent), the engine's kernel code in flash
(`flash_kernels_bytes`), the deployable flash (`deploy_flash_bytes`: weights + model code + kernels);
bit-exactness against host TFLM. Then, per layer of the builtin engine (speed), the depthwise,
pointwise (1x1) and fully connected layers above issue 21's per-MAC goals. The project's TFLM
figures are set against TFLM's own make build of the same commit (BUILD_TYPE=release,
cortex_m_generic, measured on QEMU mps2-an386 -icount shift=0) and must match within 5 %.

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
from harness.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "models"  # the project's copies, when present

MODELS = ("ic", "kws", "vww", "ad")
# Each column: the engine, its kernel set, the builtin engine's --optimize mode, a label.
ENGINES = (("builtin", "optimized", "speed", "builtin speed"), ("builtin", "optimized", "size", "builtin size"),
           ("tflm", "cmsis-nn", "speed", "TFLM+CMSIS-NN"), ("tflm", "reference", "speed", "TFLM ref"))
# Issue 21's per-layer goals per MAC, judged in the timing model's cycles_est (a run without it: in the
# emulator's instructions per MAC, and the output says so).
LAYER_GOALS = {"DEPTHWISE_CONV_2D": 1.5, "pointwise CONV_2D": 1.2, "FULLY_CONNECTED": 1.2}
# TFLM's own make build (release), instructions per MAC on mps2-an386 -icount shift=0 (issue 9)
TFLM_MAKE = {("ic", "reference"): 8.59, ("kws", "reference"): 16.24, ("ic", "cmsis-nn"): 2.39,
             ("kws", "cmsis-nn"): 2.90}
TOLERANCE = 0.05


def available_kernels() -> set[str]:
    try:
        settings = Settings.from_environ()  # a script is an edge: the TFLM tree variables, read here
        return set(configured_trees(settings.tflm_environ, settings.tflm_commit))
    except TflmTreeError:
        return set()


def run_one(model: Path, board: str, engine: str, kernels: str, optimize: str, samples: int, work: Path) -> dict:
    cfg = BenchConfig(model=model, board=board, samples=samples, kernels=kernels, engine=engine, optimize=optimize,
                      per_layer=engine == "builtin", work_dir=work / "build")
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


def cycles_per_mac(row: dict | None) -> str:
    """The timing model's estimated cycles per MAC (cycles_est / macs), when the run had it."""
    if row is None or row.get("status") != "ok" or not row.get("cycles_est") or not row.get("macs"):
        return "-"
    return f"{row['cycles_est'] / row['macs']:.2f}"


def layer_kinds(model_path: Path) -> dict[str, str]:
    """Output tensor name -> the goal's kind of layer (DEPTHWISE_CONV_2D, pointwise CONV_2D, ...)."""
    from harness.model import load_tflite

    model = load_tflite(model_path)
    kinds = {}
    for op in model.operators:
        kind = op.op
        if op.op == "CONV_2D" and tuple(model.tensor(op.inputs[1]).shape[1:3]) == (1, 1):
            kind = "pointwise CONV_2D"
        kinds[model.tensor(op.outputs[0]).name] = kind
    return kinds


def layers_missing_goals(row: dict, model_path: Path) -> list[str]:
    """Lines naming the layers of a per-layer row whose count per MAC is above their goal."""
    import json

    if row.get("status") != "ok" or not row.get("per_layer_json"):
        return []
    kinds = layer_kinds(model_path)
    lines = []
    for layer in json.loads(row["per_layer_json"]):
        kind = kinds.get(layer["name"], layer["op"])
        goal = LAYER_GOALS.get(kind)
        if goal is None or not layer["macs"]:
            continue
        estimated = layer.get("cycles_est") is not None
        per_mac = (layer["cycles_est"] if estimated else layer["count"]) / layer["macs"]
        unit = "cycles_est" if estimated else layer["unit"]
        if per_mac > goal:
            lines.append(f"  {layer['index']:>3} {kind:<18} {layer['name'][:48]:<48} {layer['macs']:>9,} MACs "
                         f"{per_mac:5.2f} {unit}/MAC > {goal}")
    return lines


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
                for engine, kernels, optimize, label in ENGINES:
                    if engine == "builtin" or kernels in have:
                        runs[(board, name, label)] = run_one(model, board, engine, kernels, optimize, args.samples,
                                                             Path(work))
    print(f"QEMU -icount shift=0: counts are emulator instructions, not cycles (median of {args.samples} random "
          "inputs); cyc/MAC = the timing model's estimated cycles on the board (cycles_est / MACs: an estimate, "
          "not a measurement); arena = persistent + non-persistent bytes used; kernels = flash_kernels_bytes; "
          "deploy = deploy_flash_bytes (weights + model code + kernels)")
    for board in boards:
        print(f"\nboard {board}")
        head = f"{'model':<5} {'MACs':>10}"
        for *_, label in ENGINES:
            head += f" | {label + ' /MAC':>18} {'cyc/MAC':>7} {'arena':>7} {'kernels':>7} {'deploy':>8} {'mism':>4}"
        print(head)
        for name in args.models:
            rows = [runs.get((board, name, label)) for *_, label in ENGINES]
            macs = next((r["macs"] for r in rows if r and r.get("macs")), 0)
            line = f"{name:<5} {macs:>10,}"
            for row in rows:
                line += (f" | {cell(row, 'instructions_per_mac', '.2f'):>18} {cycles_per_mac(row):>7} "
                         f"{cell(row, 'arena_bytes', ','):>7} "
                         f"{cell(row, 'flash_kernels_bytes', ','):>7} {cell(row, 'deploy_flash_bytes', ','):>8} "
                         f"{cell(row, 'host_mismatches', 'd'):>4}")
            print(line)
        print(f"\nlayers above issue 21's per-MAC goals (builtin speed, {board}; judged in the timing model's "
              "cycles_est where the run has it, else in emulator instructions, as each line says):")
        for name in args.models:
            row = runs.get((board, name, "builtin speed"))
            missing = layers_missing_goals(row, zoo.reference_model(name, prefer=[SHARED])) if row else []
            print(f" {name}: " + ("none" if not missing else f"{len(missing)} layers"))
            for line in missing:
                print(line)
    print("\nTFLM through tinyhil against TFLM's own make build (release, mps2-an386), instructions/MAC:")
    for (name, kernels), expected in TFLM_MAKE.items():
        row = runs.get(("mps2_an386", name, "TFLM+CMSIS-NN" if kernels == "cmsis-nn" else "TFLM ref"))
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
