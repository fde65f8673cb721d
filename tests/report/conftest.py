from __future__ import annotations

import json

import pytest

from harness.report import ResultRow

LAYERS = [
    {"index": 0, "name": "conv1", "op": "CONV_2D", "macs": 4608, "count": 9000},
    {"index": 1, "name": "pool1", "op": "MAX_POOL_2D", "macs": 0, "count": 700},
    {"index": 2, "name": "classifier", "op": "FULLY_CONNECTED", "macs": 640, "count": 1500},
]


@pytest.fixture
def rows():
    """Runs of every shape the bench produces: emulator counts, cycles on a board, a failure."""
    return [
        ResultRow(
            model="demo", board="mps2_an386", target="qemu", engine="builtin", kernels="optimized",
            unit="instructions", latency_median=12_000, latency_min=11_960, latency_max=12_040,
            timer_resolution=40, arena_bytes=1024, tflm_arena_bytes=3000, tflm_arena_head_bytes=1100,
            flash_bytes=30_000, ram_bytes=8000, sections_json={".text": 20_000, ".rodata": 10_000},
            samples=450, host_mismatches=0, accuracy_device=0.9778, accuracy_host=0.9778, macs=6000,
            per_layer_json=LAYERS, clock_hz=25_000_000, timestamp="2026-01-01T10:00:00+00:00",
            extra={"extra_wall_seconds": 3.25}, run_id="run-demo-opt",
        ),
        {
            "run_id": "run-demo-board", "model": "demo", "board": "nucleo_f401re", "target": "serial", "engine": "tflm",
            "kernels": "cmsis-nn", "unit": "cycles", "latency_median": 30_000, "clock_hz": 84_000_000,
            "accuracy_device": 0.97, "flash_bytes": 90_000, "ram_bytes": 20_000,
            "timestamp": "2026-01-01T10:01:00+00:00",
        },
        {
            "run_id": "run-ic-ref", "model": "ic", "board": "mps2_an386", "target": "qemu", "engine": "builtin",
            "kernels": "reference", "error": "op not supported yet: ADD, AVERAGE_POOL_2D",
            "timestamp": "2026-01-01T10:02:00+00:00",
        },
        {
            "run_id": "run-demo-ref", "model": "demo", "board": "mps2_an386", "target": "qemu",
            "engine": "builtin", "kernels": "reference", "unit": "instructions", "latency_median": 50_000, "macs": 6000,
            "accuracy_device": 0.9778, "per_layer_json": json.dumps(LAYERS),
            "timestamp": "2026-01-01T10:03:00+00:00",
        },
    ]
