"""What the model costs vs what the harness costs, for IC, KWS, VWW (MLPerf Tiny) and the demo CNN.

Each model is benchmarked on mps2_an386 in QEMU with 2 samples (the figures do not depend on the
sample count except the bundled test data), in a fresh temporary folder; the flash and RAM split
comes from the firmware ELF (symbols attributed to compile units through DWARF, pyelftools), the
arena and stack from the device. Usage: .venv/bin/python benchmarks/memory_split.py [--board B]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rich.console import Console

from harness.pipeline import BenchConfig, run_bench
from harness.report.paper import FLASH_STACK, RAM_STACK
from harness.zoo import reference_model

SHARED = Path(__file__).resolve().parents[2] / "shared" / "models"
MODELS = ("mlperf_tiny_ic_resnet8_int8.tflite", "mlperf_tiny_kws_dscnn.tflite", "mlperf_tiny_vww_mobilenet.tflite")


def _model(name: str) -> Path:
    return SHARED / name if (SHARED / name).is_file() else reference_model(name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--board", default="mps2_an386")
    args = parser.parse_args()
    console = Console(stderr=True, quiet=True)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        from harness.demo_model import build_demo_model

        demo = build_demo_model(work / "demo", seed=0)
        runs = [(name.split("_")[2].upper(), _model(name), {}) for name in MODELS]
        runs.append(("demo CNN", demo.tflite_path, {"x": demo.x_test[:2], "labels": demo.y_test[:2]}))
        for label, path, data in runs:
            cfg = BenchConfig(model=path, board=args.board, samples=None if data else 2, results_dir=None,
                              work_dir=work / "build", **data)
            rows.append((label, run_bench(cfg, console=console)))
    print(f"board {args.board}, QEMU; bytes from the firmware ELF (pyelftools: symbols -> DWARF compile units)")
    header = ["part"] + [label for label, _ in rows]
    lines = [header]
    for column, name, model_part in FLASH_STACK:
        lines.append([f"flash: {name} ({'model' if model_part else 'harness'})"] + [f"{r[column]:,}" for _, r in rows])
    lines.append(["flash: whole test firmware"] + [f"{r['flash_bytes']:,}" for _, r in rows])
    for column, name, model_part in RAM_STACK:
        lines.append([f"RAM: {name} ({'model' if model_part else 'harness'})"] + [f"{r[column]:,}" for _, r in rows])
    lines.append(["RAM: whole test firmware"] + [f"{r['ram_bytes']:,}" for _, r in rows])
    lines.append(["arena used (device, painted)"] + [f"{r['arena_bytes']:,}" for _, r in rows])
    lines.append(["stack used by one inference (device)"] + [f"{r['stack_bytes']:,}" for _, r in rows])
    for column, name in (("deploy_flash_bytes", "DEPLOYABLE flash: weights + model code + kernels"),
                         ("deploy_ram_bytes", "DEPLOYABLE RAM: arena + engine state + stack used")):
        lines.append([name] + [f"{r[column]:,}" for _, r in rows])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        pairs = enumerate(zip(line, widths, strict=True))
        cells = [cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in pairs]
        print(" | ".join(cells))


if __name__ == "__main__":
    main()
