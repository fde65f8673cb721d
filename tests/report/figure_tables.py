"""Result tables of every shape the report's figures must draw well: 12 compression variants x 2 boards
x 3 engine/kernel sets, and the edge cases (one row, no per-layer data, coinciding points, latencies
over four decades). Rows go through the store's schema (`rows_to_frame`), as real runs do."""

from __future__ import annotations

import json

import pandas as pd

from harness.report import rows_to_frame

# (variant, method, latency factor, accuracy): five variants share one point, as int8 variants of one
# architecture do (same graph, same instructions; same accuracy on the test set).
VARIANTS = (
    ("ptq_int8", "ptq_int8", 1.0, 0.9778), ("qat", "qat", 1.0, 0.9778), ("prune_s50", "prune", 1.0, 0.9778),
    ("prune_qat_s50", "prune_qat", 1.0, 0.9778), ("cluster_k16", "cluster", 1.0, 0.9778),
    ("prune_s80", "prune", 1.0, 0.9511), ("prune_2_4", "prune_2_4", 1.0, 0.9644),
    ("channel_prune_f50", "channel_prune", 0.55, 0.9422), ("distill", "distill", 0.38, 0.9333),
    ("scratch", "distill", 0.38, 0.9289), ("low_rank", "low_rank", 0.81, 0.9689),
    ("ptq_int16x8", "ptq_int16x8", 1.9, 0.9800),
)
ENGINE_SETS = (("builtin", "optimized", 1.0, 1.0), ("tflm", "cmsis-nn", 1.45, 1.5), ("tflm", "reference", 6.8, 1.5))
BOARDS = (("mps2_an386", "qemu", "instructions", None), ("nucleo_l4r5zi", "serial", "cycles", 120_000_000))
LAYERS = [
    {"index": 0, "name": "sequential/conv2d/Relu;sequential/conv2d/BiasAdd", "op": "CONV_2D", "macs": 41_472,
     "count": 98_000},
    {"index": 1, "name": "sequential/max_pooling2d/MaxPool", "op": "MAX_POOL_2D", "macs": 0, "count": 6_100},
    {"index": 2, "name": "sequential/conv2d_1/Relu", "op": "CONV_2D", "macs": 73_728, "count": 151_000},
    {"index": 3, "name": "sequential/dense/MatMul", "op": "FULLY_CONNECTED", "macs": 2_560, "count": 7_900},
]


def run(variant, method, factor, accuracy, engine, kernels, engine_factor, arena_factor, board, target, unit,
        clock, *, per_layer=False, stamp=0) -> dict:
    latency = round(260_000 * factor * engine_factor)
    macs = round(118_000 * min(factor, 1.0))
    row = {
        "run_id": f"{variant}-{engine}-{kernels}-{board}", "model": variant, "board": board, "target": target,
        "engine": engine, "kernels": kernels, "unit": unit, "status": "ok", "samples": 450, "macs": macs,
        "latency_median": latency, "clock_hz": clock or 25_000_000, "accuracy_device": accuracy,
        "accuracy_host": accuracy, "host_mismatches": 0,
        "arena_bytes": round(9_400 * arena_factor * min(factor, 1.0)),
        "tflm_arena_bytes": round(14_800 * min(factor, 1.0)), "tflm_arena_head_bytes": round(9_100 * min(factor, 1.0)),
        "flash_bytes": round(61_000 + 30_000 * (engine == "tflm") + 20_000 * min(factor, 1.0)),
        "ram_bytes": 30_500, "flash_weights_bytes": round(19_800 * min(factor, 1.0)),
        "flash_model_code_bytes": 4_100 if engine == "builtin" else 1_900,
        "flash_kernels_bytes": {"optimized": 5_600, "cmsis-nn": 38_400, "reference": 27_900}[kernels],
        "flash_harness_bytes": 6_200, "flash_runtime_bytes": 9_800, "flash_test_data_bytes": 14_400,
        "flash_other_bytes": 900, "ram_arena_bytes": round(9_400 * arena_factor), "ram_engine_state_bytes": 700,
        "ram_stack_bytes": 8_192, "ram_harness_bytes": 11_300, "ram_other_bytes": 600,
        "deploy_flash_bytes": 29_000, "deploy_ram_bytes": 12_000,
        "timestamp": f"2026-12-01T10:{stamp // 60:02d}:{stamp % 60:02d}+00:00",
        "compress_method": method,
    }
    if per_layer:
        row["per_layer"] = True
        estimated = target == "qemu"  # the timing model's per-layer cycles beside the emulator's counts
        row["per_layer_json"] = json.dumps([
            {**layer, "count": round(layer["count"] * factor * engine_factor),
             **({"cycles_est": round(layer["count"] * factor * engine_factor * 1.7)} if estimated else {})}
            for layer in LAYERS])
        if estimated:
            row["timing_model"] = "cm4-trm 1"
    return row


def speed_size_rows() -> list[dict]:
    """One model on nucleo_l4r5zi (emulated, estimated) with builtin speed, builtin size and TFLM + CMSIS-NN."""
    rows = []
    for engine, kernels, optimize, factor in (("builtin", "optimized", "speed", 1.0),
                                              ("builtin", "optimized", "size", 1.1), ("tflm", "cmsis-nn", None, 1.45)):
        row = run("ptq_int8", None, 1.0, 0.9778, engine, kernels, factor, 1.0, "nucleo_l4r5zi", "qemu",
                  "instructions", 120_000_000, per_layer=True, stamp=len(rows))
        rows.append({**row, "optimize": optimize, "run_id": f"{row['run_id']}-{optimize}"})
    return rows


def full_rows(*, per_layer: bool = True) -> list[dict]:
    """12 variants x 2 boards x 3 engine/kernel sets; per-layer profiles for two variants."""
    rows = []
    for variant, method, factor, accuracy in VARIANTS:
        for engine, kernels, engine_factor, arena_factor in ENGINE_SETS:
            for board, target, unit, clock in BOARDS:
                rows.append(run(variant, method, factor, accuracy, engine, kernels, engine_factor, arena_factor,
                                board, target, unit, clock, per_layer=per_layer and variant in ("ptq_int8", "distill"),
                                stamp=len(rows)))
    return rows


def table(rows: list[dict]) -> pd.DataFrame:
    return rows_to_frame(rows)


def tables() -> dict[str, pd.DataFrame]:
    """Every case by name."""
    full = full_rows()
    one_board = [r for r in full if r["board"] == "mps2_an386"]
    plain = [{**r, "compress_method": None} for r in one_board if r["model"] in ("ptq_int8", "distill")]
    decades = [{**r, "latency_median": lat, "run_id": f"dec-{k}", "model": f"m{k}"}
               for k, (r, lat) in enumerate(zip(one_board[:5], (1_200, 14_000, 160_000, 1_700_000, 12_000_000),
                                                strict=True))]
    coinciding = [r for r in one_board if r["kernels"] == "optimized" and r["model"] in
                  ("ptq_int8", "qat", "prune_s50", "prune_qat_s50", "cluster_k16", "distill")]
    return {
        "full": table(full),
        "one_board": table(one_board),
        "one_row": table(full[:1]),
        "no_per_layer": table(full_rows(per_layer=False)),
        "coinciding": table(coinciding),
        "four_decades": table(decades),
        "plain_models": table(plain),  # no compression variants: series are engines
        "speed_size": table(speed_size_rows()),  # the builtin engine's two modes beside TFLM
    }
