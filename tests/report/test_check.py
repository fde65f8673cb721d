"""`tinyhil check`: the CI regression gate against a committed baseline, by run identity."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from harness.places import PACKAGE_DIR
from harness.report import append_results


def _check(cwd, *args):
    return subprocess.run([sys.executable, "-m", "harness.cli", "check", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120, env={"PYTHONPATH": str(PACKAGE_DIR.parent), "PATH": "/usr/bin:/bin"})


def test_check_passes_against_its_own_baseline_and_names_a_lowered_figure(rows, tmp_path):
    append_results(rows, tmp_path / "results")
    baseline = tmp_path / "baseline.parquet"
    written = _check(tmp_path, "--baseline", str(baseline), "--update")
    assert written.returncode == 0, written.stderr
    same = _check(tmp_path, "--baseline", str(baseline), "--tolerance", "0")
    assert same.returncode == 0 and "ok: 3 baseline run(s)" in same.stdout, same.stdout + same.stderr

    table = pd.read_parquet(baseline)
    lowered = table["run_id"] == "run-demo-ref"
    table.loc[lowered, "latency_median"] -= 1  # the baseline was one instruction faster
    table.to_parquet(baseline, index=False)
    worse = _check(tmp_path, "--baseline", str(baseline), "--tolerance", "0")
    assert worse.returncode == 1, worse.stdout + worse.stderr
    line = next(line for line in worse.stdout.splitlines() if "latency_median" in line)
    assert "run-demo-ref" in line and "regression" in line and "49999" in line.replace(",", "")
    assert "1 regression(s)" in worse.stdout
    # a tolerance above the change lets it pass
    assert _check(tmp_path, "--baseline", str(baseline), "--tolerance", "0.01").returncode == 0


def test_check_fails_on_mismatch_accuracy_drop_and_missing_run(rows, tmp_path):
    append_results(rows[:1], tmp_path / "results")
    baseline = tmp_path / "baseline.parquet"
    assert _check(tmp_path, "--baseline", str(baseline), "--update").returncode == 0
    append_results([{**rows[0].to_record(), "host_mismatches": 2, "accuracy_device": 0.5,
                     "timestamp": "2026-02-01T00:00:00+00:00", "attempt_id": "later"}], tmp_path / "results")
    out = _check(tmp_path, "--baseline", str(baseline))
    assert out.returncode == 1 and "host_mismatches" in out.stdout and "accuracy_device" in out.stdout
    other = tmp_path / "other"
    append_results(rows[1:2], other / "results")
    missing = _check(other, "--baseline", str(baseline))
    assert missing.returncode == 1 and "not measured" in missing.stdout


def test_check_refuses_bad_input_with_one_line(tmp_path):
    (tmp_path / "results").mkdir()
    out = _check(tmp_path, "--baseline", str(tmp_path / "nope.parquet"))
    assert out.returncode == 2 and out.stderr.strip().startswith("error: no results")
    append_results([{"model": "m", "board": "b", "target": "qemu", "engine": "builtin", "run_id": "r"}],
                   tmp_path / "results")
    out = _check(tmp_path, "--baseline", str(tmp_path / "nope.parquet"))
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [
        f"error: baseline {tmp_path / 'nope.parquet'} does not exist (write one with `tinyhil check --update`)"]
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    out = _check(tmp_path, "--baseline", str(bad), "--tolerance", "-1")
    assert out.returncode == 2 and out.stderr.startswith("error: baseline")


def _gate_row(**changes) -> dict:
    row = {"model": "kws", "board": "mps2_an386", "target": "qemu", "engine": "builtin", "kernels": "optimized",
           "samples": 5, "per_layer": False, "protocol": "tinyhil", "status": "ok", "unit": "instructions",
           "run_id": "run-a", "attempt_id": "a1", "model_sha256": "a" * 64, "latency_median": 1000.0,
           "arena_bytes": 100, "flash_bytes": 5000, "host_mismatches": 0,
           "toolchain_version": "arm-none-eabi-gcc 12.2.1", "qemu_version": "qemu-system-arm 7.2.22",
           "timestamp": "2026-01-01T00:00:00+00:00"}
    return {**row, **changes}


def test_check_refuses_counts_made_with_other_tools(tmp_path):
    """Counts from another compiler or emulator are not a regression: one error line, exit 2."""
    append_results([_gate_row()], tmp_path / "results")
    baseline = tmp_path / "baseline.parquet"
    assert _check(tmp_path, "--baseline", str(baseline), "--update").returncode == 0
    table = pd.read_parquet(baseline)
    table["toolchain_version"] = "arm-none-eabi-gcc 10.3.1"  # a baseline made on ubuntu-22.04
    table.to_parquet(baseline, index=False)
    out = _check(tmp_path, "--baseline", str(baseline))
    assert out.returncode == 2 and out.stdout == ""
    line = out.stderr.strip()
    assert line.startswith("error: ") and len(line.splitlines()) == 1
    assert "arm-none-eabi-gcc 10.3.1 in the baseline, arm-none-eabi-gcc 12.2.1 now" in line and "--update" in line


def test_check_follows_a_changed_model_file_and_writes_a_summary(tmp_path):
    """The same configuration on another model file is compared (and the file change named) rather than
    reported as a missing run; --summary appends the verdict as Markdown."""
    append_results([_gate_row()], tmp_path / "base")
    baseline = tmp_path / "baseline.parquet"
    assert _check(tmp_path, "--baseline", str(baseline), "--results", "base", "--update").returncode == 0
    append_results([_gate_row(run_id="run-b", attempt_id="b1", model_sha256="b" * 64, latency_median=1500.0)],
                   tmp_path / "results")
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    out = _check(tmp_path, "--baseline", str(baseline), "--summary", str(summary))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "not measured" not in out.stdout and "model_sha256" in out.stdout
    text = summary.read_text()
    assert text.startswith("earlier step\n## tinyhil regression gate")
    assert "| kws | mps2_an386 | qemu | builtin | optimized | 1,500 | instructions |" in text
    assert "| latency_median | 1,000 | 1,500 | +50.000 % | regression |" in text


def test_check_gates_on_the_timing_models_estimate_of_the_same_model_version():
    from harness.report.check import compare

    base = pd.DataFrame([{"run_id": "r1", "model": "kws", "board": "nucleo_l4r5zi", "target": "qemu",
                          "engine": "builtin", "kernels": "optimized", "status": "ok", "error": None,
                          "unit": "instructions", "latency_median": 100.0, "cycles_est": 1000.0,
                          "timing_model": "cm4-trm 1",
                          "timestamp": "2026-01-01T10:00:00+00:00"}])
    slower = base.assign(cycles_est=1010.0, timestamp="2026-01-02T10:00:00+00:00")
    (finding,) = compare(slower, base)
    assert (finding.figure, finding.verdict) == ("cycles_est", "regression")
    assert not [f for f in compare(slower, base, tolerance_pct=1.0) if f.fails]
    remodelled = slower.assign(timing_model="cm4-trm 2")
    findings = compare(remodelled, base)
    assert [(f.figure, f.verdict) for f in findings] == [("timing_model", "changed")]  # not a regression
