"""Results store: schema, derived columns, CSV/Parquet round trip, append history, provenance."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from harness.report import COLUMNS, ResultRow, append_results, load_results, provenance
from harness.report.store import normalize


def test_round_trip_csv_and_parquet_agree(rows, tmp_path):
    written = append_results(rows, tmp_path)
    from_parquet = load_results(tmp_path)
    from_csv = normalize(pd.read_csv(tmp_path / "results.csv"))
    pd.testing.assert_frame_equal(from_parquet, written)
    pd.testing.assert_frame_equal(from_csv, written)
    assert list(written.columns[: len(COLUMNS)]) == list(COLUMNS)
    assert written["extra_wall_seconds"].iloc[0] == 3.25  # prefixed extra keys become columns
    assert json.loads(written["sections_json"].iloc[0]) == {".text": 20_000, ".rodata": 10_000}
    assert str(written["arena_bytes"].dtype) == "Int64" and str(written["model"].dtype) == "string"


def test_derived_columns_follow_the_unit(rows, tmp_path):
    table = append_results(rows, tmp_path).set_index(["board", "kernels"])
    emulator = table.loc[("mps2_an386", "optimized")]
    assert emulator["instructions_per_mac"] == pytest.approx(2.0)
    assert pd.isna(emulator["latency_ms"])  # instructions are never turned into time
    board = table.loc[("nucleo_f401re", "cmsis-nn")]
    assert board["latency_ms"] == pytest.approx(30_000 / 84e6 * 1e3)
    assert pd.isna(board["instructions_per_mac"])


def test_failed_run_keeps_its_row(rows, tmp_path):
    table = append_results(rows, tmp_path)
    failed = table[table["error"].notna()]
    assert list(failed["model"]) == ["ic"]
    assert "ADD" in failed["error"].iloc[0] and pd.isna(failed["latency_median"].iloc[0])


def test_append_keeps_history_and_new_columns(rows, tmp_path):
    append_results(rows[:2], tmp_path)
    table = append_results([{**rows[1], "board": "nucleo_l4r5zi", "extra_heap_bytes": 512}], tmp_path)
    assert len(table) == 3 and len(load_results(tmp_path)) == 3
    assert table["extra_heap_bytes"].isna().sum() == 2 and table["extra_heap_bytes"].iloc[2] == 512
    assert table["timestamp"].notna().all()


def test_empty_store_has_the_schema(tmp_path):
    empty = load_results(tmp_path / "nothing")
    assert empty.empty and list(empty.columns) == list(COLUMNS)


def test_row_rejects_unit_contradictions():
    with pytest.raises(ValueError, match="latency_ms"):
        ResultRow(model="m", board="b", target="qemu", engine="builtin", unit="instructions", latency_ms=1.0)
    with pytest.raises(ValueError, match="instructions_per_mac"):
        ResultRow(model="m", board="b", target="serial", engine="tflm", unit="cycles", instructions_per_mac=2)
    with pytest.raises(ValueError, match="shadow"):
        ResultRow(model="m", board="b", target="qemu", engine="builtin", extra={"error": "x"})


def test_provenance_names_tools_and_commit():
    info = provenance(board="mps2_an386", clock_hz=25_000_000)
    assert info["board"] == "mps2_an386" and info["clock_hz"] == 25_000_000
    assert info["timestamp"].endswith("+00:00") and info["host"]
    assert info["tinyhil_version"] and info["tinyhil_version"] != "unknown"
    assert info["tinyhil_commit"] is None or len(info["tinyhil_commit"].split("-")[0]) == 40
    for tool, key in (("arm-none-eabi-gcc", "toolchain_version"), ("qemu-system-arm", "qemu_version")):
        assert info[key] is None or info[key].startswith(tool)


def test_append_fills_missing_provenance(rows, tmp_path):
    from harness.report.provenance import qemu_version, tinyhil_version, toolchain_version

    table = append_results(rows, tmp_path).set_index("target")
    assert table["host"].notna().all()
    assert (table["tinyhil_version"] == tinyhil_version()).all()
    if toolchain_version() is not None:
        assert (table["toolchain_version"] == toolchain_version()).all()
    if qemu_version() is not None:
        assert (table.loc["qemu", "qemu_version"] == qemu_version()).all()
    assert pd.isna(table.loc["serial", "qemu_version"])  # a board run owes nothing to QEMU
    assert table.loc["serial", "timestamp"] == "2026-01-01T10:01:00+00:00"  # given values stay


def test_a_column_outside_the_schema_is_refused(rows, tmp_path):
    with pytest.raises(ValueError, match="heap_bytes"):
        append_results([{**rows[1], "heap_bytes": 512}], tmp_path)


def test_provenance_keeps_tinyhil_apart_from_the_users_repository(tmp_path, monkeypatch):
    """The run's repository is the one holding the working folder: its commit and dirty flag, never
    tinyhil's own; outside git both are empty."""
    import subprocess

    from harness.report.provenance import code_provenance

    outside = code_provenance(tmp_path)
    assert outside["repo_commit"] is None and outside["repo_dirty"] is None
    git = ["git", "-C", str(tmp_path), "-c", "user.email=u@example.org", "-c", "user.name=u"]
    subprocess.run([*git, "init", "-q"], check=True)
    (tmp_path / "model.txt").write_text("v1")
    subprocess.run([*git, "add", "model.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    clean = code_provenance(tmp_path)
    assert clean["repo_commit"] == head and clean["repo_dirty"] is False
    assert clean["tinyhil_commit"] is None or not clean["tinyhil_commit"].startswith(head)
    (tmp_path / "model.txt").write_text("v2")
    assert code_provenance(tmp_path)["repo_dirty"] is True
    monkeypatch.chdir(tmp_path)
    table = append_results([ResultRow(model="m", board="b", target="qemu", engine="builtin")], tmp_path / "r")
    assert table["repo_commit"].iloc[0] == head and bool(table["repo_dirty"].iloc[0]) is True
