import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import DataError
from harness.pipeline import BenchConfig
from harness.pipeline.sweep import Shard, expand_models, plan
from harness.report import load_results


def test_plan_is_the_full_product_in_a_stable_order(tmp_path):
    models = [tmp_path / "a.tflite", tmp_path / "b.tflite"]
    configs = plan(models, ["mps2_an386", "netduinoplus2"], ["optimized", "reference"],
                   BenchConfig(model=Path("."), board="x"))
    assert len(configs) == 8
    assert [(c.model.name, c.board, c.kernels) for c in configs[:3]] == [
        ("a.tflite", "mps2_an386", "optimized"), ("a.tflite", "mps2_an386", "reference"),
        ("a.tflite", "netduinoplus2", "optimized")]


def test_shards_partition_the_sweep():
    items = list(range(10))
    shards = [Shard.parse(f"{i}/3").take(items) for i in (1, 2, 3)]
    assert sorted(sum(shards, [])) == items and shards[0] == [0, 3, 6, 9]


@pytest.mark.parametrize("text", ["0/2", "3/2", "x", "1-2"])
def test_bad_shard_is_named(text):
    with pytest.raises(DataError, match="--shard"):
        Shard.parse(text)


def test_directories_expand_to_their_models(tmp_path):
    (tmp_path / "b.tflite").write_bytes(b"")
    (tmp_path / "a.tflite").write_bytes(b"")
    (tmp_path / "notes.json").write_text("{}")
    assert [p.name for p in expand_models([tmp_path])] == ["a.tflite", "b.tflite"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no .tflite"):
        expand_models([tmp_path / "empty"])
    with pytest.raises(DataError, match="no such model"):
        expand_models([tmp_path / "missing.tflite"])


@pytest.mark.slow
def test_sweep_records_failures_goes_on_and_resumes(tmp_path, kws_model):
    if not shutil.which("qemu-system-arm"):
        pytest.skip("qemu-system-arm is not installed")
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(kws_model, models / "kws.tflite")
    (models / "broken.tflite").write_bytes(b"not a model")

    def sweep(*extra):
        out = subprocess.run([sys.executable, "-m", "harness.cli", "sweep", str(models), "--samples", "2", "--json",
                              *extra], capture_output=True, text=True, cwd=tmp_path, timeout=600)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])

    first = sweep()
    assert [r["model"] for r in first] == ["broken", "kws"]
    assert "not a .tflite model" in first[0]["error"] and first[1]["host_mismatches"] == 0
    assert first[0]["run_id"] and first[0]["status"] == "failed"
    # kws is measured and broken failed for a reason that cannot change: nothing runs again...
    assert sweep() == []
    # ...unless asked
    assert [r["model"] for r in sweep("--retry-failed")] == ["broken"]
    table = load_results(tmp_path / "results")
    assert list(table["model"]) == ["broken", "kws", "broken"]
    shown = subprocess.run([sys.executable, "-m", "harness.cli", "sweep", str(models)], capture_output=True,
                           text=True, cwd=tmp_path, timeout=600)  # the table view of a failed row
    assert shown.returncode == 0 and "tinyhil results" in shown.stdout, shown.stderr
