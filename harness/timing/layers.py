"""`tinyhil analyze --board B --estimate`: the timing model's per-layer estimate of a model on a board.

It runs the model once in QEMU through the bench pipeline (builtin or TFLM engine, a hooked
per-layer pass, one random sample) and tabulates the per-layer cycles the model attributes, with
milliseconds at the board's clock. Nothing is stored in the results table.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from harness.boards import load_board
from harness.pipeline import BenchConfig, run_bench


def estimate_layers(model: Path, board: str, engine: str = "builtin", work_dir: Path = Path("build"),
                    timeout_s: float = 600.0, optimize: str = "speed", settings=None,
                    per_layer: bool = True) -> tuple[dict, pd.DataFrame | None]:
    """The run's row and its per-layer table; no table when `per_layer` is off (totals only: no
    hooked pass) or the engine's build cannot resolve layers (TFLM's release build)."""
    extra = {} if settings is None else {"settings": settings}  # the edge's (its board folders); else read now
    cfg = BenchConfig(model=Path(model), board=board, target="qemu", engine=engine, per_layer=per_layer, samples=1,
                      results_dir=None, work_dir=work_dir, timeout_s=timeout_s, progress=False, optimize=optimize,
                      **extra)
    row = run_bench(cfg)
    if not row.get("per_layer_json"):
        return row, None
    clock = load_board(board, search=cfg.settings.boards_dirs).clock_hz
    layers = pd.DataFrame(json.loads(row["per_layer_json"]))
    table = pd.DataFrame({
        "#": layers["index"], "op": layers["op"], "macs": layers["macs"],
        "instructions": layers["count"], "cycles_est": layers["cycles_est"],
        "ms_est": layers["cycles_est"] / clock * 1e3,
        "cycles_per_mac_est": (layers["cycles_est"] / layers["macs"].where(layers["macs"] > 0)).round(2),
    })
    return row, table
