"""The run record a reviewer can cite: runs identified by content, resumable sweeps that survive a
real signal, every failure a row, the profiler outside the timed figure, cached builds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from harness.report import load_results, load_samples_table
from harness.report.fragments import list_fragments
from harness.report.store import runs_folder

from .conftest import REPO, keras_to_int8_tflite, last_json, run_cli

pytestmark = pytest.mark.slow


def _dense_model(path, seed: int, width: int = 8):
    import tensorflow as tf
    import tf_keras as keras  # noqa: F401  (keras 2 keeps the converter quiet)

    tf.random.set_seed(seed)
    model = tf.keras.Sequential([tf.keras.Input(shape=(16,), batch_size=1),
                                 tf.keras.layers.Dense(width, activation="relu"), tf.keras.layers.Dense(4)])
    path.parent.mkdir(parents=True, exist_ok=True)
    return keras_to_int8_tflite(model, path, (16,), seed=seed)


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    """Two different models with the same file name, in two folders."""
    root = tmp_path_factory.mktemp("twins")
    return _dense_model(root / "a" / "m.tflite", seed=1), _dense_model(root / "b" / "m.tflite", seed=2)


def _table(cwd):
    return load_results(cwd / "results")


def test_same_file_name_two_models_both_get_rows_and_a_repeat_is_skipped(tmp_path, twins):
    a, b = twins
    first = last_json(run_cli("sweep", str(a), "--samples", "2", "--json", cwd=tmp_path))
    second = last_json(run_cli("sweep", str(b), "--samples", "2", "--json", cwd=tmp_path))
    assert len(first) == len(second) == 1 and first[0]["run_id"] != second[0]["run_id"]
    assert first[0]["model"] == second[0]["model"] == "m"  # the name stays a label
    assert first[0]["build_id"] != second[0]["build_id"]
    again = run_cli("sweep", str(a), "--samples", "2", "--json", cwd=tmp_path)
    assert last_json(again) == [] and "already in the results table" in again.stderr
    table = _table(tmp_path)
    assert len(table) == 2 and table["status"].tolist() == ["ok", "ok"]


def test_a_second_bench_reuses_the_unchanged_build(tmp_path, twins):
    a, _ = twins
    args = ("bench", str(a), "--board", "mps2_an386", "--samples", "2", "--json")
    own_cache = {"TINYHIL_CACHE": str(tmp_path / "cache")}  # cold for sure: no other test's build in it
    cold = last_json(run_cli(*args, cwd=tmp_path, env=own_cache))
    warm = last_json(run_cli(*args, cwd=tmp_path, env=own_cache))
    assert cold["build_cached"] is False and warm["build_cached"] is True
    assert warm["build_seconds"] == 0 and cold["build_seconds"] > 0
    assert warm["build_id"] == cold["build_id"] and warm["run_id"] == cold["run_id"]
    assert warm["latency_median"] == cold["latency_median"]  # emulator counts repeat exactly
    # other samples are another run, and other bundled test data another build
    other = last_json(run_cli("bench", str(a), "--board", "mps2_an386", "--samples", "3", "--json", cwd=tmp_path,
                              env=own_cache))
    assert other["run_id"] != cold["run_id"] and not other["build_cached"]


def test_killed_sweep_resumes_and_every_run_is_measured_exactly_once(tmp_path):
    models = tmp_path / "models"
    for seed in range(4):
        _dense_model(models / f"m{seed}.tflite", seed=seed, width=8 + seed)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    command = [sys.executable, "-m", "harness.cli", "sweep", str(models), "--samples", "2"]
    sweep = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    runs = runs_folder(tmp_path / "results")
    deadline = time.monotonic() + 300
    while not list_fragments(runs) and time.monotonic() < deadline and sweep.poll() is None:
        time.sleep(0.2)
    sweep.send_signal(signal.SIGTERM)  # a real signal, mid-way: the first run is stored, others are not
    _, stderr = sweep.communicate(timeout=120)
    assert sweep.returncode == 130, stderr.decode()[-2000:]
    assert "interrupted" in stderr.decode()
    before = _table(tmp_path)
    assert 1 <= (before["status"] == "ok").sum() < 4
    resumed = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    table = _table(tmp_path)
    ok = table[table["status"] == "ok"]
    assert ok["run_id"].nunique() == 4 and len(ok) == 4  # every run exactly once
    assert set(table["status"]) <= {"ok", "interrupted"}


def test_a_non_project_exception_inside_a_run_leaves_its_row(tmp_path, twins, monkeypatch):
    from harness.pipeline import bench

    def boom(*_args, **_kwargs):
        raise ZeroDivisionError("a bug in a stage")

    monkeypatch.setattr(bench, "analyze", boom)
    cfg = bench.BenchConfig(model=twins[0], board="mps2_an386", samples=2, results_dir=tmp_path / "results",
                            work_dir=tmp_path / "build")
    with pytest.raises(ZeroDivisionError):
        bench.run_bench(cfg)
    row = _table(tmp_path).iloc[0]
    assert row["status"] == "failed" and row["error_type"] == "ZeroDivisionError"
    assert row["error"] == "ZeroDivisionError: a bug in a stage" and isinstance(row["run_id"], str)
    assert pd.isna(row["toolchain_version"])  # nothing was built, so no toolchain is claimed


def test_kws_latency_is_the_same_with_and_without_per_layer(tmp_path, kws_model):
    plain = last_json(run_cli("bench", str(kws_model), "--board", "mps2_an386", "--samples", "2", "--json",
                              cwd=tmp_path))
    hooked = last_json(run_cli("bench", str(kws_model), "--board", "mps2_an386", "--samples", "2", "--json",
                               "--per-layer", cwd=tmp_path))
    assert plain["latency_median"] == hooked["latency_median"]
    assert hooked["latency_profiled_median"] > hooked["latency_median"]  # the hooks cost something
    assert hooked["build_cached"]  # per-layer is a run setting, not a build setting
    # the flash/RAM split and the deployable footprint
    flash_parts = [k for k in plain if k.startswith("flash_") and k.endswith("_bytes") and k != "flash_bytes"]
    assert sum(plain[k] for k in flash_parts) == plain["flash_bytes"]
    ram_parts = [k for k in plain if k.startswith("ram_") and k.endswith("_bytes") and k != "ram_bytes"]
    assert sum(plain[k] for k in ram_parts) == plain["ram_bytes"]
    assert plain["flash_weights_bytes"] > 20_000 and plain["flash_test_data_bytes"] >= 2 * 500
    assert plain["deploy_flash_bytes"] == (plain["flash_weights_bytes"] + plain["flash_model_code_bytes"]
                                           + plain["flash_kernels_bytes"])
    assert plain["deploy_ram_bytes"] == plain["arena_bytes"] + plain["ram_engine_state_bytes"] + plain["stack_bytes"]
    samples = load_samples_table(tmp_path / "results")
    mine = samples[samples["attempt_id"] == hooked["attempt_id"]]
    assert len(mine) == 2 and mine["host_match"].all()
    assert float(np.median(mine["latency"])) == hooked["latency_median"]


def test_experiment_shards_in_parallel_merge_into_one_table(tmp_path, twins):
    a, b = twins
    experiment = tmp_path / "exp.toml"
    experiment.write_text(f"""[experiment]
models = ["{a}", "{b}"]
boards = ["mps2_an386", "netduinoplus2"]
samples = 2
""")
    for i in (1, 2):
        out = run_cli("sweep", str(experiment), "--shard", f"{i}/2", "--jobs", "2", "--results", f"r{i}",
                      cwd=tmp_path, timeout=900)
        assert out.returncode == 0, out.stderr[-2000:]
    merged = run_cli("report", "r1", "r2", "--out", "merged", cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr[-2000:]
    table = pd.read_parquet(tmp_path / "merged" / "results.parquet")
    assert len(table) == 4 and table["run_id"].nunique() == 4 and (table["status"] == "ok").all()
    assert set(table["board"]) == {"mps2_an386", "netduinoplus2"}
    for name in ("comparison.tex", "comparison.csv", "memory_split.pdf", "memory.png", "index.html"):
        assert (tmp_path / "merged" / name).is_file()
    # random inputs have no labels, so no accuracy: no Pareto figure, and the report says why
    assert not (tmp_path / "merged" / "pareto.png").exists() and "pareto" in merged.stdout + merged.stderr
    assert len(pd.read_parquet(tmp_path / "merged" / "samples.parquet")) == 8


def test_samples_that_arrived_before_a_failure_are_kept(tmp_path, twins, monkeypatch):
    from harness.errors import DeviceError
    from harness.measure import device as measure
    from harness.pipeline import bench

    real = measure.Device.run_flash

    def lose_the_link_after_two(self, start, count, per_layer=False, *, timeout=None, on_sample=None):
        arrived = []

        def keep(sample):
            on_sample(sample)
            arrived.append(sample)
            if len(arrived) == 2:
                raise DeviceError("link lost after two samples")

        return real(self, start, count, per_layer, timeout=timeout, on_sample=keep)

    monkeypatch.setattr(measure.Device, "run_flash", lose_the_link_after_two)
    cfg = bench.BenchConfig(model=twins[0], board="mps2_an386", samples=4, results_dir=tmp_path / "results",
                            work_dir=tmp_path / "build")
    with pytest.raises(DeviceError):
        bench.run_bench(cfg)
    row = _table(tmp_path).iloc[-1]
    assert row["status"] == "failed" and row["samples"] == 4 and row["latency_median"] > 0
    samples = load_samples_table(tmp_path / "results")
    mine = samples[samples["attempt_id"] == row["attempt_id"]]
    assert list(mine["sample"]) == [0, 1] and mine["host_match"].all()
