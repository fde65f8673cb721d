"""The demo's digits CNN: op set, int8 edges, test split, accuracy, determinism, quiet stdout."""

from __future__ import annotations

import numpy as np
import pytest

from harness.demo_model import DEMO_OPS, TEST_SAMPLES, build_demo_model, load_digits_split, quantize
from harness.model import load_tflite
from harness.reference import run_tflm


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build_demo_model(tmp_path_factory.mktemp("demo"), seed=0)


def test_split_is_stratified_with_450_test_samples():
    split = load_digits_split(seed=0)
    assert split.x_test.shape == (TEST_SAMPLES, 8, 8, 1) == (450, 8, 8, 1)
    assert len(split.x_train) + len(split.x_test) == 1797
    assert split.x_test.min() >= 0.0 and split.x_test.max() == 1.0
    full = np.bincount(np.concatenate([split.y_train, split.y_test]), minlength=10)
    counts = np.bincount(split.y_test, minlength=10)
    assert np.all(np.abs(counts - full * TEST_SAMPLES / full.sum()) < 1)  # every digit in proportion
    assert not np.array_equal(load_digits_split(seed=1).y_test, split.y_test)


def test_model_uses_only_the_demo_ops_with_int8_edges(demo):
    model = load_tflite(demo.tflite_path)
    assert set(model.op_names) == set(DEMO_OPS)
    for index in model.inputs + model.outputs:
        tensor = model.tensors[index]
        assert tensor.dtype == np.int8 and tensor.shape[0] == 1
    conv_weights = [model.tensors[op.inputs[1]] for op in model.operators if op.op == "CONV_2D"]
    assert all(w.quant.per_channel for w in conv_weights)


def test_test_data_and_accuracy(demo):
    assert demo.x_test.shape == (450, 8, 8, 1) and demo.x_test.dtype == np.int8
    assert demo.y_test.shape == (450,)
    np.testing.assert_array_equal(
        demo.x_test, quantize(load_digits_split(0).x_test, demo.input_scale, demo.input_zero_point)
    )
    assert demo.float_accuracy >= 0.9
    int8_accuracy = float((run_tflm(demo.tflite_path, demo.x_test).argmax(axis=1) == demo.y_test).mean())
    assert int8_accuracy >= 0.9
    assert abs(int8_accuracy - demo.float_accuracy) <= 0.03


def test_same_seed_same_bytes_and_stdout_stays_clean(demo, tmp_path, capfd):
    again = build_demo_model(tmp_path, seed=0)
    assert again.tflite_path.read_bytes() == demo.tflite_path.read_bytes()
    assert capfd.readouterr().out == ""  # `tinyhil demo --json` owns stdout


def test_quantize_rounds_half_to_even_and_saturates():
    x = np.array([0.5, 1.5, -0.5, 1000.0, -1000.0])
    np.testing.assert_array_equal(quantize(x, 1.0, 0), [0, 2, 0, 127, -128])
