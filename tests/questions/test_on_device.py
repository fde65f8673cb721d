"""`tinyhil fit` and `tinyhil robustness` end to end: real TensorFlow variants, real firmware, QEMU.

One small variants folder (the built-in digits CNN trained 3 epochs; int8 PTQ and the 16x8 variant),
four device runs in all: `fit` benchmarks the unmeasured int8 variant in both `--optimize` modes and
keeps the faster one that fits, a tighter budget reuses those rows, and `robustness` reuses the speed
row as its clean run and adds the two perturbed runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def _cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=1500)


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed")
    from harness.compress.run import compress

    out = tmp_path_factory.mktemp("questions") / "v"
    compress(None, [("ptq_int8", {}), ("ptq_int16x8", {})], "digits", out, 0, {"base_epochs": 3}, keep_going=False)
    return out


def _host_accuracy(model: Path, npz: Path) -> float:
    """Top-1 of host TFLM on a float .npz, quantized with the model's input parameters (as bench does)."""
    from harness.inputs import load_samples
    from harness.model import load_tflite
    from harness.reference import run_tflm

    samples = load_samples(load_tflite(model), npz, None)
    outputs = run_tflm(model, samples.x)
    return float(np.mean(outputs.reshape(len(outputs), -1).argmax(axis=1) == samples.y))


def test_fit_then_robustness_on_the_device(variants):
    cwd, results = variants.parent, variants.parent / "results"
    out = _cli("fit", str(variants), "--board", "mps2_an386", "--flash", "256", "--ram", "64",
               "--results", str(results), "--json", cwd=cwd)
    assert out.returncode == 0, out.stderr[-3000:]
    decision = json.loads(out.stdout.strip().splitlines()[-1])
    assert decision["chosen"] == "int8_ptq [speed]"  # both modes fit: the faster one
    by_variant = {r["variant"]: r for r in decision["table"]}
    assert by_variant["int8_ptq [size]"]["excluded_because"] == "int8_ptq [speed] fits too and is faster"
    assert "UnsupportedOpsError" in by_variant["int16x8_ptq [speed]"]["excluded_because"]
    assert "int16 activations" in by_variant["int16x8_ptq [speed]"]["excluded_because"]
    table = pd.read_parquet(results / "results.parquet")
    ok = table[(table["model"] == "int8_ptq") & (table["status"] == "ok")]
    assert sorted(ok["optimize"]) == ["size", "speed"]
    row = ok[ok["optimize"] == "speed"].iloc[-1]
    assert row["deploy_flash_bytes"] <= 256 * 1024 and row["deploy_ram_bytes"] <= 64 * 1024
    assert by_variant["int8_ptq [speed]"]["flash_bytes_budgeted"] == row["deploy_flash_bytes"]
    assert row["host_mismatches"] == 0 and row["samples"] == 360
    assert ok[ok["optimize"] == "size"].iloc[-1]["host_mismatches"] == 0
    assert by_variant["int8_ptq [speed]"]["accuracy_device"] == pytest.approx(
        _host_accuracy(variants / "int8_ptq.tflite", variants / "test_data.npz"))

    tight = _cli("fit", str(variants), "--board", "mps2_an386", "--ram", "1", "--results", str(results), cwd=cwd)
    assert tight.returncode == 2, tight.stderr[-3000:]
    errors = [line for line in tight.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no variant" in errors[0] and "RAM ≤ 1 KiB" in errors[0]
    assert "RAM" in tight.stderr and "> 1 KiB" in tight.stderr  # the exclusion table says why
    assert len(pd.read_parquet(results / "results.parquet")) == len(table)  # measured once, not again

    robust = _cli("robustness", str(variants), "--snr", "10", "--epsilon", "0.1", "--results", str(results),
                  cwd=cwd)
    assert robust.returncode == 0, robust.stderr[-3000:]
    after = pd.read_parquet(results / "results.parquet")
    assert (after["run_id"] == row["run_id"]).sum() == 1  # the clean run was reused
    perturbed = after[after["perturb_clean_run_id"] == row["run_id"]]
    assert sorted(perturbed["perturb_name"]) == ["fgsm_0.1", "noise_10db"]
    assert (perturbed["host_mismatches"] == 0).all() and perturbed["input_sha256"].nunique() == 2
    joined = pd.read_csv(results / "robustness.csv").set_index("variant")
    assert list(joined.index) == ["int8_ptq"]
    for name in ("noise_10db", "fgsm_0.1"):
        host = _host_accuracy(variants / "int8_ptq.tflite", variants / "perturbed" / f"{name}.npz")
        assert joined.loc["int8_ptq", f"accuracy_{name}"] == pytest.approx(host)  # the device agrees bit-exactly
    assert joined.loc["int8_ptq", "accuracy_fgsm_0.1"] < joined.loc["int8_ptq", "accuracy_device"]
    assert json.loads(joined.loc["int8_ptq", "perturb_parameters"])["noise_10db"]["snr_db"] == 10
    assert "not measured: int16x8_ptq.tflite: UnsupportedOpsError" in robust.stdout
    assert (results / "robustness.png").is_file() and (results / "robustness.pdf").is_file()
