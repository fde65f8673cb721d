from __future__ import annotations

import pandas as pd

from harness.report import (
    append_results,
    latest_runs,
    load_results,
    memory_long,
    pareto_front,
    per_layer_long,
    rows_to_frame,
    successful,
)
from harness.report.transforms import add_derived


def test_transforms_do_not_modify_their_input(rows):
    df = rows_to_frame(rows)
    before = df.copy()
    for transform in (add_derived, successful, latest_runs, pareto_front, memory_long, per_layer_long):
        transform(df)
    pd.testing.assert_frame_equal(df, before)


def test_latest_runs_keeps_the_newest_per_configuration(rows, tmp_path):
    append_results(rows, tmp_path)
    newer = {**rows[3], "latency_median": 48_000, "timestamp": "2026-01-02T00:00:00+00:00"}
    append_results([newer], tmp_path)
    table = load_results(tmp_path)
    latest = latest_runs(table)
    assert len(table) == 5 and len(latest) == 3  # the failed run has no successful row
    assert len(latest_runs(table, include_failed=True)) == 4
    reference = latest[latest["kernels"] == "reference"]
    assert reference.set_index("model").loc["demo", "latency_median"] == 48_000


def test_a_later_failure_does_not_hide_the_good_run(rows, tmp_path):
    append_results(rows, tmp_path)
    failed_again = {**rows[3], "latency_median": None, "error": "DeviceTimeoutError: no answer",
                    "timestamp": "2026-01-03T00:00:00+00:00"}
    append_results([failed_again], tmp_path)
    latest = latest_runs(load_results(tmp_path))
    assert latest.set_index("run_id").loc["run-demo-ref", "latency_median"] == 50_000


def test_pareto_front_compares_within_a_unit_only(rows):
    df = pareto_front(successful(add_derived(rows_to_frame(rows))))
    front = df.set_index("kernels")["on_pareto_front"]
    assert front["optimized"] and not front["reference"]  # same accuracy, 4x the instructions
    assert front["cmsis-nn"]  # alone among cycle counts


def test_memory_and_per_layer_long_forms(rows):
    df = rows_to_frame(rows)
    memory = memory_long(df)
    optimized = memory[memory["run"].str.contains("optimized")].set_index("memory")["bytes"]
    assert optimized.to_dict() == {
        "flash": 30_000, "ram": 8000, "arena": 1024, "tflm_arena": 3000, "tflm_arena_head": 1100,
    }
    layers = per_layer_long(df)
    assert len(layers) == 6 and set(layers["unit"]) == {"instructions"}
    first = layers.iloc[0]
    assert (first["name"], first["op"], first["macs"], first["count"]) == ("conv1", "CONV_2D", 4608, 9000)
