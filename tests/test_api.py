"""The public Python API: harness.bench / sweep / load_results, the CLI's own entry points."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import harness
from harness.errors import TinyhilError
from harness.report import ResultRow, append_results

REPO = Path(__file__).resolve().parents[1]


def test_importing_harness_stays_light():
    heavy = ("pandas", "numpy", "tensorflow", "typer")
    code = f"import sys, harness; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


def test_bad_configuration_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(TinyhilError, match="unknown target 'jtag'; choose one of qemu"):
        harness.bench(tmp_path / "m.tflite", board="mps2_an386", target="jtag")
    (tmp_path / "m.tflite").write_bytes(b"")
    with pytest.raises(TinyhilError, match="unknown engine 'onnx'"):
        harness.sweep([tmp_path], engine="onnx", results_dir=tmp_path / "results")
    assert not (tmp_path / "results").exists()  # nothing ran, nothing stored


def test_load_results_gives_every_attempt_or_the_latest(tmp_path):
    rows = [dict(model="m", board="mps2_an386", target="qemu", engine="builtin", run_id="r1", attempt_id=a,
                 status="ok", unit="instructions", latency_median=lat) for a, lat in (("a1", 10.0), ("a2", 11.0))]
    append_results(rows, tmp_path)
    assert len(harness.load_results(tmp_path)) == 2
    latest = harness.load_results(tmp_path, latest=True)
    assert list(latest["attempt_id"]) == ["a2"]


def test_a_row_becomes_a_series():
    row = ResultRow(model="m", board="b", target="qemu", engine="builtin", unit="instructions", latency_median=5.0,
                    extra={"compress_method": "prune"})
    series = row.to_series()
    assert series["latency_median"] == 5.0 and series["compress_method"] == "prune"
    assert list(series.index[:4]) == ["model", "board", "target", "engine"]


@pytest.mark.slow
def test_bench_returns_the_row_and_sweep_the_rows(tmp_path):
    for tool in ("qemu-system-arm", "arm-none-eabi-gcc"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed")
    sys.path.insert(0, str(REPO / "tests" / "codegen"))
    from tiny_models import convert

    model = convert("fc_softmax", tmp_path)
    row = harness.bench(model, board="mps2_an386", target="qemu", samples=3, results_dir=tmp_path / "results",
                        work_dir=tmp_path / "work")
    assert isinstance(row, ResultRow) and row.status == "ok" and row.host_mismatches == 0
    assert row.unit == "instructions" and row.latency_median > 0 and row.engine_plugin.startswith("tinyhil ")
    assert row.to_series()["run_id"] == row.run_id
    rows = harness.sweep([model], boards=["mps2_an386"], kernels=["optimized", "reference"], samples=3,
                         results_dir=tmp_path / "results", work_dir=tmp_path / "work")
    assert [r.kernels for r in rows] == ["reference"]  # the optimized run is in the table already: resumed
    table = harness.load_results(tmp_path / "results", latest=True)
    assert set(table["kernels"]) == {"optimized", "reference"} and (table["host_mismatches"] == 0).all()
