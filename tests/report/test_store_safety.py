"""The results store loses nothing: damaged fragments, a results path that is a file, a read-only
folder, a full disk, old-format folders, and writers killed with SIGKILL at random points."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.report import append_results, load_results
from harness.report.fallback import StoreWriteError, load_fallback, recover, store_or_keep
from harness.report.fragments import UnreadableFragmentWarning, list_fragments
from harness.report.store import (
    ResultsLocationError,
    check_writable,
    load_samples_table,
    normalize,
    rows_to_frame,
    runs_folder,
)

HERE = Path(__file__).parent


def _row(i: int, **extra) -> dict:
    return {"model": "m", "board": "mps2_an386", "target": "qemu", "engine": "builtin", "run_id": f"run-{i}",
            "attempt_id": f"attempt-{i}", "unit": "instructions", "latency_median": 1000.0 + i, **extra}


def _samples(i: int, n: int = 5) -> pd.DataFrame:
    return pd.DataFrame({"run_id": f"run-{i}", "attempt_id": f"attempt-{i}", "sample": np.arange(n),
                         "latency": np.full(n, 1000.0 + i), "unit": "instructions"})


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


@contextlib.contextmanager
def _mount(where: Path, *options: str):
    """A mount made for the test (root only), or a skip saying why not."""
    if shutil.which("mount") is None:
        pytest.skip("no `mount` command here")
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", *options, str(where)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount ({' '.join(options)}) here: {done.stderr.strip() or done.returncode}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def test_a_truncated_fragment_is_named_skipped_and_never_overwritten(tmp_path):
    for i in range(3):
        append_results([_row(i)], tmp_path, samples=_samples(i))
    damaged = runs_folder(tmp_path) / "attempt-1.parquet"
    damaged.write_bytes(damaged.read_bytes()[:100])  # what a full disk or a crashed copy leaves
    before = damaged.read_bytes()
    with pytest.warns(UnreadableFragmentWarning, match="attempt-1.parquet"):
        table = load_results(tmp_path)
    assert sorted(table["run_id"]) == ["run-0", "run-2"]
    append_results([_row(3)], tmp_path, samples=_samples(3))  # the store still takes runs
    from harness.report.compaction import compact

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnreadableFragmentWarning)
        compact(tmp_path, full=True)
        table = load_results(tmp_path)
        samples = load_samples_table(tmp_path)
    assert sorted(table["run_id"]) == ["run-0", "run-2", "run-3"]
    assert sorted(samples["attempt_id"].unique()) == ["attempt-0", "attempt-2", "attempt-3"]
    assert damaged.read_bytes() == before  # left as it was, for a person to look at


def test_an_old_results_folder_is_read_then_migrated_once_with_a_backup(tmp_path):
    old = normalize(rows_to_frame([_row(0), _row(1, error="DeviceTimeoutError: no answer")]))
    old.to_parquet(tmp_path / "results.parquet", index=False)
    old.to_csv(tmp_path / "results.csv", index=False)
    pd.concat([_samples(0), _samples(1)]).to_parquet(tmp_path / "samples.parquet", index=False)
    originals = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(load_results(tmp_path)["run_id"]) == ["run-0", "run-1"]  # read before any write
    assert {p.name for p in tmp_path.iterdir()} == set(originals)  # reading changed nothing

    append_results([_row(2)], tmp_path, samples=_samples(2))
    append_results([_row(3)], tmp_path)
    backups = list(tmp_path.glob("backup-before-store-*"))
    assert len(backups) == 1
    assert {p.name: p.read_bytes() for p in backups[0].iterdir()} == originals
    table = load_results(tmp_path)
    assert list(table["run_id"]) == ["run-0", "run-1", "run-2", "run-3"]  # old rows first, each once
    assert table.set_index("run_id").loc["run-1", "error"] == "DeviceTimeoutError: no answer"
    assert sorted(load_samples_table(tmp_path)["attempt_id"].unique()) == ["attempt-0", "attempt-1", "attempt-2"]


def test_an_old_folder_with_a_damaged_parquet_is_read_from_its_csv(tmp_path):
    old = normalize(rows_to_frame([_row(0), _row(1)]))
    old.to_csv(tmp_path / "results.csv", index=False)
    (tmp_path / "results.parquet").write_bytes(b"PAR1 truncated")
    with pytest.warns(UnreadableFragmentWarning, match="results.parquet"):
        append_results([_row(2)], tmp_path)
        table = load_results(tmp_path)
    assert sorted(table["run_id"]) == ["run-0", "run-1", "run-2"]


def test_a_results_path_that_is_a_file_is_refused_before_anything_is_built(tmp_path):
    (tmp_path / "results").write_text("not a folder")
    done = _cli("bench", "model.tflite", "--board", "mps2_an386", "--results", "results", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]  # one line
    assert done.stderr.startswith("error: the results location results is a file")
    assert not (tmp_path / "build").exists()


def test_a_read_only_results_folder_is_refused_and_still_read(tmp_path):
    source = tmp_path / "rw"
    append_results([_row(0)], source, samples=_samples(0))
    readonly = tmp_path / "ro"
    if os.geteuid() == 0:  # root writes anywhere a mode allows nothing: a read-only bind mount
        context = _mount(readonly, "--bind", "-o", "ro", str(source))
    else:
        shutil.copytree(source, readonly)
        for path in [readonly, *readonly.rglob("*")]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        context = contextlib.nullcontext(readonly)
    with context:
        done = _cli("bench", "model.tflite", "--board", "mps2_an386", "--results", str(readonly), cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"error: the results location {readonly} is not writable")
        assert len(done.stderr.strip().splitlines()) == 1
        with pytest.raises(ResultsLocationError):
            check_writable(readonly / "store" / "runs")
        assert list(load_results(readonly)["run_id"]) == ["run-0"]  # reading needs no write
        assert not (tmp_path / "build").exists()


def test_a_full_disk_keeps_the_measured_run_in_a_fallback_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    with _mount(tmp_path / "full", "-t", "tmpfs", "-o", "size=128k", "tmpfs") as full:
        results = full / "results"
        check_writable(results)  # fine at the start of the run ...
        with open(full / "filler", "wb", buffering=0) as filler:  # ... then the disk fills up during it
            with contextlib.suppress(OSError):
                while True:
                    filler.write(b"\0" * 4096)
        row, samples = _row(7, status="ok"), _samples(7, n=500)
        with pytest.raises(StoreWriteError, match="could not be stored") as caught:
            store_or_keep(row, samples, results)
        path = caught.value.fallback
        assert path is not None and path.is_file() and str(path) in str(caught.value)
        assert not str(path).startswith(str(full))
        kept_row, kept_samples, meant = load_fallback(path)
        assert kept_row["latency_median"] == 1007.0 and meant == results
        pd.testing.assert_frame_equal(kept_samples, samples, check_dtype=False)
        assert load_results(results).empty  # nothing half-written is read
    other = tmp_path / "elsewhere"
    recover(path, other)
    recover(path, other)  # a second recovery adds nothing
    assert list(load_results(other)["run_id"]) == ["run-7"]
    assert len(load_samples_table(other)) == 500


def test_a_run_that_could_not_be_stored_exits_1(monkeypatch, capsys, tmp_path):
    from harness import cli

    def boom():
        raise StoreWriteError(f"the run was measured but could not be stored; saved in {tmp_path}/x.json", None)

    monkeypatch.setattr(cli, "app", boom)
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 1
    assert capsys.readouterr().err.startswith("error: the run was measured but could not be stored")


def test_sigkill_at_random_points_of_50_runs_loses_and_doubles_nothing(tmp_path):
    """A writer (the store's append path, with compactions every 5 fragments) is killed at random
    moments and restarted — resuming like a sweep — until its 50 runs are stored."""
    results, rng, reported, kills = tmp_path / "results", random.Random(22), {}, 0
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parents[1]), os.environ.get("PYTHONPATH", "")])}
    for _ in range(400):
        proc = subprocess.Popen([sys.executable, str(HERE / "store_writer.py"), str(results), "50"],
                                stdout=subprocess.PIPE, text=True, env=env)
        assert proc.stdout.readline() == "ready\n"
        try:
            proc.wait(timeout=rng.uniform(0.0, 0.4))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        for line in proc.stdout.read().splitlines():
            _, run_id, attempt = line.split()
            reported[run_id] = attempt
        if proc.returncode == 0:
            break
    assert proc.returncode == 0, "the writer never got to the end"
    assert kills >= 3  # it was killed, more than once
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the table reads: no fragment is damaged
        table, samples = load_results(results), load_samples_table(results)
    assert sorted(table["run_id"]) == [f"run-{i:03d}" for i in range(50)]  # every run, exactly once
    assert table["attempt_id"].is_unique
    for run_id, attempt in reported.items():  # each reported store is the row kept
        assert table.set_index("run_id").loc[run_id, "attempt_id"] == attempt
    numbers = table["run_id"].str[4:].astype(int)
    assert (table["latency_median"] == 1000.0 + numbers).all()
    assert samples.groupby("attempt_id").size().eq(500).all() and samples["attempt_id"].nunique() == 50
    assert all(p.name.startswith(".") for p in runs_folder(results).glob("*.partial"))  # never read as fragments
    assert len(list_fragments(runs_folder(results))) < 50  # compactions happened on the way


def test_compaction_keeps_the_files_few_and_every_row_once(tmp_path, monkeypatch):
    from harness.report import compaction

    monkeypatch.setattr(compaction, "COMPACT_AT", 3)
    monkeypatch.setattr(compaction, "FANOUT", 2)
    for i in range(40):
        append_results([_row(i)], tmp_path, samples=_samples(i))
    files = list_fragments(runs_folder(tmp_path))
    assert len(files) <= 3 + 2 * 4  # loose ones below COMPACT_AT, fewer than FANOUT segments per level
    assert max(compaction.level(p) for p in files if p.name.startswith("seg-")) >= 1  # merged up the levels
    table = load_results(tmp_path)
    assert list(table["run_id"]) == [f"run-{i}" for i in range(40)]  # in the order stored, each once
    assert len(load_samples_table(tmp_path)) == 40 * 5


def _append_many(results: str, writer: int) -> None:
    from harness.report import compaction

    compaction.COMPACT_AT, compaction.FANOUT = 4, 2  # compactions race each other too
    for k in range(10):
        i = writer * 100 + k
        append_results([_row(i)], Path(results), samples=_samples(i))


def test_concurrent_writers_keep_every_row_once(tmp_path):
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.starmap(_append_many, [(str(tmp_path), w) for w in range(4)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table, samples = load_results(tmp_path), load_samples_table(tmp_path)
    assert sorted(table["run_id"]) == sorted(f"run-{w * 100 + k}" for w in range(4) for k in range(10))
    assert table["attempt_id"].is_unique and len(samples) == 40 * 5
