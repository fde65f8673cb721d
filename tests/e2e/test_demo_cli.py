"""`tinyhil demo`, the issue's acceptance run: 450 samples in QEMU, bit-exact, deterministic."""

import pytest

from .conftest import last_json, run_cli

pytestmark = pytest.mark.slow


def test_demo_end_to_end_and_deterministic(tmp_path):
    first = last_json(run_cli("demo", "--json", cwd=tmp_path))
    assert first["samples"] == 450 and first["host_mismatches"] == 0
    assert first["accuracy_device"] == first["accuracy_host"] > 0.9
    assert first["unit"] == "instructions"
    for f in ("results/results.csv", "results/results.parquet", "results/demo_per_layer.png",
              "results/demo_per_layer.pdf"):
        assert (tmp_path / f).stat().st_size > 0, f
    second = last_json(run_cli("demo", "--json", cwd=tmp_path))
    for key in ("latency_median", "latency_min", "latency_max", "arena_bytes", "flash_bytes"):
        assert second[key] == first[key], key  # emulator counts are deterministic
    import pandas as pd

    assert len(pd.read_csv(tmp_path / "results" / "results.csv")) == 2
