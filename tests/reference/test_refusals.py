"""TFLM refuses float16, dynamic-range and sparse models: the error must say which and why."""

from __future__ import annotations

import os

import numpy as np
import pytest

from harness.errors import ModelFormatError
from harness.reference import run_tflite, run_tflm, tflm_arena
from harness.reference.capture import capture_fds


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    """A tiny float model converted three ways TFLM cannot run (built with TensorFlow here)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    out = tmp_path_factory.mktemp("variants")
    with capture_fds(1, 2):
        import tensorflow as tf
        import tf_keras as keras

        keras.utils.set_random_seed(0)
        inputs = keras.Input((8, 8, 1), batch_size=1)
        x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dense(64)(x)
        model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
        dense = model.layers[3]
        kernel, bias = dense.get_weights()
        kernel[np.abs(kernel) < np.quantile(np.abs(kernel), 0.9)] = 0  # sparse enough for DENSIFY
        dense.set_weights([kernel, bias])

        def convert(name, optimization, **spec):
            converter = tf.lite.TFLiteConverter.from_keras_model(model)
            converter.optimizations = [optimization]
            for key, value in spec.items():
                setattr(converter.target_spec, key, value)
            path = out / f"{name}.tflite"
            path.write_bytes(converter.convert())
            return path

        paths = {
            "dynamic": convert("dynamic", tf.lite.Optimize.DEFAULT),
            "float16": convert("float16", tf.lite.Optimize.DEFAULT, supported_types=[tf.float16]),
            "sparse": convert("sparse", tf.lite.Optimize.EXPERIMENTAL_SPARSITY),
        }
    return paths


@pytest.mark.parametrize(
    ("variant", "reason"),
    [("dynamic", "dynamic-range"), ("float16", "float16"), ("sparse", "DENSIFY")],
)
def test_tflm_refusal_names_the_reason(variants, variant, reason):
    x = np.zeros((1, 8, 8, 1), np.float32)
    with pytest.raises(ModelFormatError, match=reason) as info:
        run_tflm(variants[variant], x)
    assert "TFLM log:" in str(info.value)  # TFLM's own words come along
    with pytest.raises(ModelFormatError, match=reason):
        tflm_arena(variants[variant])
    y = run_tflite(variants[variant], x)  # tf.lite runs what TFLM cannot
    assert y.shape == (1, 10) and y.dtype == np.float32
