"""`tinyhil robot`: calibrate on Renode, then write the benchmark as a self-contained Robot suite.

The calibration is one ordinary `--target renode` bench run (a row in the results table like any
other). The suite embeds the host TFLM outputs for the same samples and that run's SysTick counts;
it is written only when the device agreed bit for bit with the host, so it can only pass on a
firmware that is still right.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
from rich.console import Console

from harness.boards import load_board
from harness.build.cache import STAMP
from harness.errors import DeviceError
from harness.pipeline import BenchConfig, run_bench, run_identity
from harness.report.store import load_samples_table
from harness.targets.renode_robot import SuiteSpec, write_suite
from harness.targets.renode_script import RenodeTiming

# Renode's SysTick counts for one ELF varied by up to 21 ticks between runs here (its time is
# synchronised at block boundaries); a count off by more than this is a changed firmware.
DEFAULT_TOLERANCE_TICKS = 100


def make_suite(
    cfg: BenchConfig, out_dir: Path, *, tolerance: int = DEFAULT_TOLERANCE_TICKS, console: Console | None = None
) -> Path:
    """Calibrate `cfg` (its target forced to renode) and write the suite into out_dir."""
    from harness.reference import run_tflm

    cfg = replace(cfg, target="renode")
    board = load_board(cfg.board, search=cfg.settings.boards_dirs)
    row = run_bench(cfg, console=console)
    if row.get("host_mismatches"):
        raise DeviceError(
            f"the calibration run differs from host TFLM on {row['host_mismatches']} samples: "
            "no suite written for a firmware that is wrong"
        )
    _, samples = run_identity(cfg)
    host = run_tflm(cfg.model, samples.x)
    reference = [np.ascontiguousarray(h).tobytes() for h in host.reshape(len(host), -1)]
    timing = RenodeTiming.for_board(board)
    table = load_samples_table(cfg.results_dir)
    mine = table[table["attempt_id"] == row["attempt_id"]].sort_values("sample")
    counts = [int(round(v / timing.instructions_per_tick)) for v in mine["latency_raw"]]
    if len(counts) != len(reference):
        raise DeviceError(f"the calibration run stored {len(counts)} sample counts for {len(reference)} samples")
    elf = Path(json.loads((cfg.work_dir / "builds" / row["build_id"] / STAMP).read_text())["elf"])
    spec = SuiteSpec(
        board=board, model_name=Path(cfg.model).stem, elf=elf, reference=reference, counts=counts, tolerance=tolerance
    )
    return write_suite(spec, out_dir)
