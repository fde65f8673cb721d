"""`tinyhil bench` from the command line, on the real MLPerf Tiny models and on made-up ones."""

import numpy as np
import pytest

from .conftest import keras_to_int8_tflite, last_json, run_cli

CONTRACT_KEYS = {"model", "board", "target", "engine", "unit", "latency_median", "latency_ms", "arena_bytes",
                 "flash_bytes", "ram_bytes", "samples", "host_mismatches", "accuracy_device", "accuracy_host",
                 "macs", "tflm_arena_bytes", "tflm_arena_head_bytes"}

pytestmark = pytest.mark.slow


def test_bench_kws_json_and_raw_outputs(tmp_path, kws_model):
    out_dir = tmp_path / "kept"
    row = last_json(run_cli("bench", str(kws_model), "--board", "mps2_an386", "--target", "qemu", "--samples", "3",
                            "--json", "--out", str(out_dir), cwd=tmp_path))
    assert CONTRACT_KEYS <= set(row)
    assert row["samples"] == 3 and row["host_mismatches"] == 0
    assert row["unit"] == "instructions" and row["latency_ms"] is None  # emulator: no wall-clock figure
    assert row["macs"] == 2656768 and row["latency_median"] > row["macs"]
    assert 0 < row["arena_bytes"] <= row["tflm_arena_head_bytes"] < row["tflm_arena_bytes"]
    inputs, outputs = np.load(out_dir / "inputs.npy"), np.load(out_dir / "outputs.npy")
    assert inputs.shape == (3, 50, 10, 1) and inputs.dtype == np.float32
    assert outputs.shape == (3, 12) and outputs.dtype == np.float32
    np.testing.assert_allclose(outputs.sum(axis=1), 1.0, atol=0.02)  # softmax probabilities
    assert (tmp_path / "results" / "results.csv").is_file()


def test_bench_optimize_size_is_bit_exact_with_less_flash(tmp_path, kws_model):
    """--optimize size: int8 weights only, bit-exact, a separate run and build, smaller weights in flash."""
    rows = {mode: last_json(run_cli("bench", str(kws_model), "--board", "mps2_an386", "--samples", "2",
                                    "--optimize", mode, "--json", cwd=tmp_path)) for mode in ("speed", "size")}
    speed, size = rows["speed"], rows["size"]
    assert speed["host_mismatches"] == 0 and size["host_mismatches"] == 0
    assert (speed["optimize"], size["optimize"]) == ("speed", "size")
    assert speed["run_id"] != size["run_id"] and speed["build_id"] != size["build_id"]
    assert size["flash_weights_bytes"] < 0.75 * speed["flash_weights_bytes"]
    assert size["deploy_flash_bytes"] < speed["deploy_flash_bytes"]
    assert speed["latency_median"] < size["latency_median"] < 1.3 * speed["latency_median"]


def test_bench_with_labelled_npz_reports_accuracy(tmp_path, ic_model):
    rng = np.random.default_rng(3)
    x = rng.integers(-128, 127, size=(4, 32, 32, 3), endpoint=True).astype(np.int8)
    np.savez(tmp_path / "d.npz", x=x, y=np.array([0, 1, 2, 3]))
    row = last_json(run_cli("bench", str(ic_model), "--board", "mps2_an386", "--data", str(tmp_path / "d.npz"),
                            "--json", cwd=tmp_path))
    assert row["samples"] == 4 and row["host_mismatches"] == 0
    assert row["accuracy_device"] == row["accuracy_host"]
    assert row["accuracy_device"] in (0.0, 0.25, 0.5, 0.75, 1.0)


def test_unsupported_op_is_refused_before_the_build(tmp_path):
    import tf_keras as keras

    inp = keras.Input((4, 4, 2), batch_size=1)
    model = keras.Model(inp, keras.layers.Activation("tanh")(keras.layers.Conv2D(2, 1)(inp)))
    path = keras_to_int8_tflite(model, tmp_path / "tanh.tflite", (4, 4, 2))
    out = run_cli("bench", str(path), "--board", "mps2_an386", "--json", cwd=tmp_path)
    assert out.returncode == 2 and out.stdout == ""
    assert "op not supported yet: TANH" in out.stderr
    assert not (tmp_path / "build").exists()  # nothing was built
    import pandas as pd

    failed = pd.read_csv(tmp_path / "results" / "results.csv")  # the failed run stays, with its reason
    assert len(failed) == 1 and "TANH" in failed["error"].iloc[0] and failed["model"].iloc[0] == "tanh"


def test_model_too_big_for_the_board_is_refused_with_numbers(tmp_path):
    import tf_keras as keras

    inp = keras.Input((1100,), batch_size=1)
    model = keras.Model(inp, keras.layers.Dense(1000)(inp))  # 1.1 MB of int8 weights
    path = keras_to_int8_tflite(model, tmp_path / "big.tflite", (1100,))
    out = run_cli("bench", str(path), "--board", "netduinoplus2", "--json", cwd=tmp_path)
    assert out.returncode == 2
    assert "does not fit" in out.stderr and "1,048,576" in out.stderr


def test_unknown_board_and_bad_model(tmp_path, kws_model):
    out = run_cli("bench", str(kws_model), "--board", "nope", cwd=tmp_path)
    assert out.returncode == 2 and "unknown board 'nope'" in out.stderr and "mps2_an386" in out.stderr
    (tmp_path / "bad.tflite").write_bytes(b"\x00" * 64)
    out = run_cli("bench", str(tmp_path / "bad.tflite"), "--board", "mps2_an386", cwd=tmp_path)
    assert out.returncode == 2 and "not a .tflite model" in out.stderr


@pytest.mark.parametrize("fixture", ["ic_model", "kws_model"])
def test_issue3_acceptance_on_mlperf_tiny(request, tmp_path, fixture):
    """20 samples on QEMU: bit-exact with host TFLM, arena within TFLM's activation plan, and at
    most 2.0 emulator instructions per MAC (a deterministic count, not a timing)."""
    model = request.getfixturevalue(fixture)
    row = last_json(run_cli("bench", str(model), "--board", "mps2_an386", "--target", "qemu", "--samples", "20",
                            "--per-layer", "--json", cwd=tmp_path))
    assert row["samples"] == 20 and row["host_mismatches"] == 0
    assert row["arena_bytes"] <= row["tflm_arena_head_bytes"]
    assert row["unit"] == "instructions" and row["latency_median"] / row["macs"] <= 2.0
    import json

    layers = row["per_layer"]
    assert layers == json.loads(row["per_layer_json"])
    assert sum(layer["macs"] for layer in layers) == row["macs"]
    assert {"name", "op", "macs", "count"} <= set(layers[0])
    assert abs(sum(layer["count"] for layer in layers) - row["latency_median"]) < 0.02 * row["latency_median"]
