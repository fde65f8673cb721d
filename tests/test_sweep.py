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


@pytest.mark.slow
def test_ctrl_c_with_jobs_stores_the_runs_in_progress_as_interrupted(tmp_path):
    """Ctrl-C (SIGINT to the whole process group) during a `--jobs 2` sweep: builds and emulators run in
    their own process groups, so the signal reaches tinyhil alone, which stops the runs in progress and
    stores them as `interrupted` (not as failed builds), starts no other, exits 130; a resumed sweep
    then measures every run once."""
    if not shutil.which("qemu-system-arm"):
        pytest.skip("qemu-system-arm is not installed")
    import os
    import signal
    import time

    import psutil

    from tests.e2e.test_run_record import _dense_model

    models = tmp_path / "models"
    for seed in range(6):
        _dense_model(models / f"m{seed}.tflite", seed=seed, width=8 + seed)
    repo = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")]))
    sweep = [sys.executable, "-m", "harness.cli", "sweep", str(models), "--samples", "300", "--jobs", "2", "--json"]
    proc = subprocess.Popen(sweep, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)  # its own process group, as a terminal's job

    def on_emulator() -> bool:
        try:
            return any(c.name() == "qemu-system-arm" for c in psutil.Process(proc.pid).children(recursive=True))
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + 600
    while proc.poll() is None and time.monotonic() < deadline and not on_emulator():
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep ended before a run was caught on its emulator"
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-3000:]
    table = load_results(tmp_path / "results")
    assert set(table["status"]) <= {"ok", "interrupted"}, table[["status", "error"]]
    stopped = table[table["status"] == "interrupted"]
    assert 1 <= len(stopped) <= 2 and len(table) < 6  # the runs in progress; the rest never started
    assert (stopped["error_type"] == "Interrupted").all()
    resumed = subprocess.run(sweep, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    ok = load_results(tmp_path / "results").query("status == 'ok'")
    assert len(ok) == 6 and ok["run_id"].is_unique  # every run measured exactly once
