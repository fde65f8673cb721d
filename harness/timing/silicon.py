"""Rows measured on silicon with the timing model's estimate beside them -> model-vs-silicon tables
(pure DataFrame -> DataFrame; benchmarks/timing_vs_silicon.py prints them)."""

from __future__ import annotations

import json

import pandas as pd

from harness.report import latest_runs


def silicon_rows(table: pd.DataFrame) -> pd.DataFrame:
    rows = latest_runs(table)
    return rows[(rows["unit"] == "cycles") & rows["cycles_est"].notna()]


def model_vs_silicon(table: pd.DataFrame) -> pd.DataFrame:
    rows = silicon_rows(table)
    return pd.DataFrame({
        "model": rows["model"], "board": rows["board"], "engine": rows["engine"], "kernels": rows["kernels"],
        "clock_hz": rows["cpu_hz"].fillna(rows["clock_hz"]), "measured_cycles": rows["latency_median"],
        "cycles_est": rows["cycles_est"], "ratio_est_to_measured": rows["cycles_est"] / rows["latency_median"],
        "timing_model": rows["timing_model"], "run_id": rows["run_id"],
    }).reset_index(drop=True)


def per_layer(table: pd.DataFrame) -> pd.DataFrame:
    out = []
    for _, row in silicon_rows(table).iterrows():
        layers = row["per_layer_json"]
        for layer in json.loads(layers) if isinstance(layers, str) else (layers or []):
            if layer.get("cycles_est") is not None and layer.get("count"):
                out.append({"model": row["model"], "board": row["board"], "layer": layer["index"], "op": layer["op"],
                            "measured_cycles": layer["count"], "cycles_est": layer["cycles_est"],
                            "ratio_est_to_measured": layer["cycles_est"] / layer["count"]})
    return pd.DataFrame(out)
