"""The model-vs-silicon table from rows that hold measured DWT cycles and the estimate side by side."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from harness.report import rows_to_frame
from harness.timing.silicon import model_vs_silicon, per_layer


def _rows():
    layers = [{"index": 0, "name": "c", "op": "CONV_2D", "macs": 10, "count": 900.0, "unit": "cycles",
               "cycles_est": 1000.0},
              {"index": 1, "name": "f", "op": "FULLY_CONNECTED", "macs": 5, "count": 100.0, "unit": "cycles",
               "cycles_est": 80.0}]
    base = {"model": "kws", "board": "nucleo_l4r5zi", "engine": "builtin", "kernels": "optimized", "status": "ok",
            "clock_hz": 120_000_000, "cpu_hz": 120_000_000}
    return [
        {**base, "run_id": "silicon", "target": "serial", "unit": "cycles", "latency_median": 1000.0,
         "cycles_est": 1100.0, "timing_model": "cm4-trm 1", "per_layer_json": json.dumps(layers),
         "timestamp": "2026-01-01T10:00:00+00:00"},
        {**base, "run_id": "emulated", "target": "qemu", "unit": "instructions", "latency_median": 700.0,
         "cycles_est": 1100.0, "timing_model": "cm4-trm 1", "timestamp": "2026-01-01T10:01:00+00:00"},
        {**base, "run_id": "no-estimate", "target": "serial", "unit": "cycles", "latency_median": 1000.0,
         "timestamp": "2026-01-01T10:02:00+00:00"},
    ]


def test_only_silicon_rows_with_an_estimate_become_lines():
    table = model_vs_silicon(rows_to_frame(_rows()))
    assert list(table["run_id"]) == ["silicon"]
    assert table.loc[0, "ratio_est_to_measured"] == pytest.approx(1.1)
    assert table.loc[0, "timing_model"] == "cm4-trm 1"


def test_per_layer_ratios():
    table = per_layer(rows_to_frame(_rows()))
    assert list(table["op"]) == ["CONV_2D", "FULLY_CONNECTED"]
    assert list(table["ratio_est_to_measured"].round(3)) == [1.111, 0.8]


def test_nothing_measured_on_silicon_is_an_empty_table():
    assert model_vs_silicon(rows_to_frame(_rows()[1:2])).empty
    assert isinstance(per_layer(pd.DataFrame(columns=rows_to_frame(_rows()).columns)), pd.DataFrame)
