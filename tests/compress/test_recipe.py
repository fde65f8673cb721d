"""End to end: `compress --recipe all` on digits, and a single method through the command."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from harness.compress import compress_command

REQUIRED = ("variant method params_json accuracy_keras accuracy_tflite tflite_bytes gzip_bytes params "
            "nonzero_fraction macs deployable seed").split()
VARIANTS = {"baseline_float", "int8_ptq", "float16", "dynamic_range", "qat_int8", "pruned_50", "pruned_80",
            "sparse_2of4", "pruned_50_qat", "channel_pruned_50", "student_distilled", "student_scratch",
            "clustered_k16", "low_rank_r8", "int16x8_ptq"}


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    out = tmp_path_factory.mktemp("recipe")
    # The default recipe, with 2 fine-tune epochs instead of 4 to keep CI fast (the base is as default).
    table = compress_command(None, None, "all", "digits", out, 0, {"epochs": 2})
    return out, table.set_index("variant")


@pytest.mark.slow
def test_recipe_all_table(recipe):
    out, table = recipe
    on_disk = pd.read_csv(out / "variants.csv")
    assert set(REQUIRED) <= set(on_disk.columns)
    assert set(on_disk["variant"]) == VARIANTS and on_disk[REQUIRED].drop(columns="variant").notna().all().all()
    base = table.loc["baseline_float"]
    assert base.accuracy_tflite - table.loc["int8_ptq"].accuracy_tflite <= 0.015
    for name, target in (("pruned_50", 0.5), ("pruned_80", 0.8), ("pruned_50_qat", 0.5)):
        assert abs(1 - table.loc[name].nonzero_fraction - target) <= 0.01, name
    int8 = table.loc["int8_ptq"]
    assert table.loc["channel_pruned_50"].tflite_bytes <= 0.6 * int8.tflite_bytes
    assert table.loc["channel_pruned_50"].macs <= 0.6 * int8.macs
    assert not table.loc["float16"].deployable and not table.loc["dynamic_range"].deployable
    assert table.drop(index=["float16", "dynamic_range"]).deployable.all()
    for name in VARIANTS:
        sidecar = json.loads((out / f"{name}.json").read_text())
        assert sidecar["variant"] == name and (out / f"{name}.tflite").stat().st_size == sidecar["tflite_bytes"]
        assert {"wall_time_s", "seed", "accuracy_tflm", "macs", "params", "reason"} <= set(sidecar)
    with np.load(out / "test_data.npz") as test_data:  # for `tinyhil bench --data`
        assert test_data["x"].shape == (360, 8, 8, 1) and test_data["y"].shape == (360,)
    assert (out / "base.keras").is_file() and (out / "channel_pruned_50.keras").is_file()
    run = json.loads((out / "compress_run.json").read_text())
    assert run["seed"] == 0 and "built-in" in run["base_model"]


@pytest.mark.slow
def test_same_seed_same_variant_bytes(recipe, tmp_path):
    """Reproducibility: a second run of a method with the same seed writes identical files."""
    out, table = recipe
    again = compress_command(None, "prune", None, "digits", tmp_path, 0, {"sparsity": 0.8, "epochs": 2})
    assert (tmp_path / "pruned_80.tflite").read_bytes() == (out / "pruned_80.tflite").read_bytes()
    assert again.iloc[0].accuracy_tflite == table.loc["pruned_80"].accuracy_tflite


@pytest.mark.slow
def test_stdout_stays_clean(tmp_path):
    """`--json` consumers read stdout: conversions and training must not write to it."""
    code = ("import sys; from pathlib import Path; from harness.compress import compress_command; "
            f"compress_command(None, 'ptq_int8', None, 'digits', Path({str(tmp_path)!r}), 0, {{'base_epochs': 2}})")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == ""
    assert (tmp_path / "variants.csv").exists()
