"""Sweeps on Dask: one task per run; a worker killed mid-run loses nothing and doubles nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.errors import DataError
from harness.pipeline import BenchConfig
from harness.pipeline.sweep import Shard, run_sweep
from harness.report import load_results
from harness.sweep_dask import INSTALL_HINT, board_resource

REPO = Path(__file__).resolve().parents[1]


def test_without_dask_the_option_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if not installed
    from rich.console import Console

    cfg = BenchConfig(model=Path("m.tflite"), board="mps2_an386", results_dir=None)
    with pytest.raises(DataError, match=r"pip install 'tinyhil\[dask\]'"):
        run_sweep([cfg], Shard(1, 1), False, Console(quiet=True), executor="dask")
    assert "tinyhil[dask]" in INSTALL_HINT


def test_boards_are_resources_and_emulators_go_anywhere():
    assert board_resource(BenchConfig(model=Path("m"), board="nucleo_l4r5zi", target="serial")) == {
        "board:nucleo_l4r5zi": 1}
    assert board_resource(BenchConfig(model=Path("m"), board="mps2_an386", target="qemu")) is None


def test_a_scheduler_needs_the_dask_executor():
    from rich.console import Console

    cfg = BenchConfig(model=Path("m.tflite"), board="mps2_an386", results_dir=None)
    with pytest.raises(DataError, match="--executor dask"):
        run_sweep([cfg], Shard(1, 1), False, Console(quiet=True), scheduler="tcp://127.0.0.1:8786")


def _workers_busy(sweep_pid: int):
    """Worker processes of the sweep's LocalCluster, and those running QEMU."""
    import psutil

    def running_qemu(worker) -> bool:
        try:
            return any(c.name() == "qemu-system-arm" for c in worker.children(recursive=True))
        except psutil.NoSuchProcess:  # a child (a build step) ended while it was looked at
            return False

    try:  # spawned workers are the sweep's children; forked ones, its fork server's
        children = {p: " ".join(p.cmdline()) for p in psutil.Process(sweep_pid).children()}
        workers = [p for p, line in children.items() if "spawn_main" in line]
        workers += [w for p, line in children.items() if "forkserver" in line for w in p.children()]
    except psutil.NoSuchProcess:
        return [], []
    return workers, [w for w in workers if running_qemu(w)]


@pytest.mark.slow
def test_a_worker_killed_mid_sweep_loses_and_doubles_nothing(tmp_path):
    pytest.importorskip("dask.distributed")
    if not shutil.which("qemu-system-arm"):
        pytest.skip("qemu-system-arm is not installed")
    from tests.e2e.test_run_record import _dense_model

    models = tmp_path / "models"
    for seed in range(4):
        _dense_model(models / f"m{seed}.tflite", seed=seed, width=8 + seed)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    sweep = [sys.executable, "-m", "harness.cli", "sweep", str(models), "--samples", "2", "--json"]
    serial = subprocess.run([*sweep, "--results", "serial"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=900)
    assert serial.returncode == 0, serial.stderr[-2000:]

    on_dask = subprocess.Popen([*sweep, "--results", "dask", "--executor", "dask", "--jobs", "2"], cwd=tmp_path,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    import psutil

    killed, deadline = None, time.monotonic() + 600
    while killed is None and on_dask.poll() is None and time.monotonic() < deadline:
        workers, busy = _workers_busy(on_dask.pid)
        if busy and len(workers) == 2:
            victim = busy[0]
            family = [victim, *victim.children(recursive=True)]
            for proc in family:
                proc.kill()  # SIGKILL: the worker and the QEMU it was running vanish mid-run
            psutil.wait_procs(family, timeout=10)
            killed = victim.pid
        time.sleep(0.05)
    out, err = on_dask.communicate(timeout=900)
    assert killed is not None, "no worker was caught mid-run"
    assert on_dask.returncode == 0, err[-3000:]
    rows = json.loads(out.strip().splitlines()[-1])
    assert len(rows) == 4 and all(r.get("status") == "ok" for r in rows), err[-3000:]

    reference, table = load_results(tmp_path / "serial"), load_results(tmp_path / "dask")
    assert sorted(table["run_id"]) == sorted(reference["run_id"])  # every run, exactly once
    assert table["run_id"].is_unique and (table["status"] == "ok").all()
    figures = ["latency_median", "latency_raw_median", "arena_bytes", "flash_bytes", "ram_bytes", "host_mismatches"]
    by_run = table.set_index("run_id")[figures].sort_index()
    assert by_run.equals(reference.set_index("run_id")[figures].sort_index())  # emulator counts repeat exactly
    resumed = subprocess.run([*sweep, "--results", "dask", "--executor", "dask", "--jobs", "2"], cwd=tmp_path,
                             env=env, capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0 and json.loads(resumed.stdout.strip().splitlines()[-1]) == []  # all done


def test_a_board_run_needs_a_worker_offering_the_board():
    distributed = pytest.importorskip("dask.distributed")
    from rich.console import Console

    cfg = BenchConfig(model=Path("m.tflite"), board="nucleo_l4r5zi", target="serial", results_dir=None)
    with pytest.raises(DataError, match="LocalCluster would give every worker the board"):
        run_sweep([cfg], Shard(1, 1), False, Console(quiet=True), executor="dask")
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        with pytest.raises(DataError, match=r"no worker of .* offers board:nucleo_l4r5zi.*--resources"):
            run_sweep([cfg], Shard(1, 1), False, Console(quiet=True), executor="dask",
                      scheduler=cluster.scheduler_address)


@pytest.mark.slow
def test_ctrl_c_stores_the_runs_in_progress_as_interrupted_and_starts_no_other(tmp_path):
    """Ctrl-C in a terminal (SIGINT to the whole process group: client and LocalCluster workers) ends a
    Dask sweep as it ends a local one: the runs in progress stored as `interrupted` with what they
    measured, no other run started, exit 130; a resumed sweep then measures every run once."""
    pytest.importorskip("dask.distributed")
    if not shutil.which("qemu-system-arm"):
        pytest.skip("qemu-system-arm is not installed")
    import signal

    from tests.e2e.test_run_record import _dense_model

    models = tmp_path / "models"
    for seed in range(6):
        _dense_model(models / f"m{seed}.tflite", seed=seed, width=8 + seed)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    sweep = [sys.executable, "-m", "harness.cli", "sweep", str(models), "--samples", "300", "--executor", "dask",
             "--jobs", "2", "--json"]
    on_dask = subprocess.Popen(sweep, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)  # its own process group, as a terminal's job
    deadline = time.monotonic() + 600
    while on_dask.poll() is None and time.monotonic() < deadline and not _workers_busy(on_dask.pid)[1]:
        time.sleep(0.05)
    assert on_dask.poll() is None, "the sweep ended before a run was caught on its emulator"
    os.killpg(on_dask.pid, signal.SIGINT)  # what Ctrl-C does
    _, err = on_dask.communicate(timeout=300)
    assert on_dask.returncode == 130, err[-3000:]
    assert "error: interrupted (signal SIGINT); what was measured is in the results table" in err
    assert "Traceback" not in err  # the workers ignored the signal; the client stopped their runs

    table = load_results(tmp_path / "results")
    assert set(table["status"]) <= {"ok", "interrupted"}, table[["status", "error"]]
    stopped = table[table["status"] == "interrupted"]
    assert 1 <= len(stopped) <= 2 and len(table) < 6  # the runs in progress; the rest never started
    assert (stopped["error_type"] == "Interrupted").all() and (stopped["error"] == "Interrupted: signal SIGINT").all()
    assert stopped["run_id"].notna().all()
    assert stopped["flash_bytes"].notna().any()  # the run caught on QEMU keeps what its build measured

    resumed = subprocess.run(sweep, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    table = load_results(tmp_path / "results")
    ok = table[table["status"] == "ok"]
    assert len(ok) == 6 and ok["run_id"].is_unique  # every run measured exactly once
