"""Channel pruning and low-rank factorization really shrink the network."""

import numpy as np
import pytest

from harness.compress.channel_prune import channel_prune, l1_keep, prune_channels
from harness.compress.lowrank import factorize, low_rank, svd_factors
from harness.compress.params import ChannelPruneParams, LowRankParams, UnsupportedModelError


def test_l1_keep_picks_largest_filters():
    kernel = np.zeros((3, 3, 2, 4))
    kernel[..., 1] = 1.0
    kernel[..., 3] = -2.0
    kernel[..., 0] = 0.1
    assert l1_keep(kernel, 0.5).tolist() == [1, 3]


def test_pruned_channels_preserve_function_when_dropped_filters_are_zero(base, digits):
    """Zeroing the filters L1 pruning will drop must not change the output: the slicing is exact."""
    import tf_keras

    doomed = tf_keras.models.clone_model(base)
    doomed.set_weights(base.get_weights())
    for layer in doomed.layers[:-1]:
        if type(layer).__name__ in ("Conv2D", "Dense"):
            kernel, bias = layer.get_weights()
            drop = np.setdiff1d(np.arange(kernel.shape[-1]), l1_keep(kernel, 0.5))
            kernel[..., drop], bias[drop] = 0.0, 0.0
            layer.set_weights([kernel, bias])
    smaller, widths = prune_channels(doomed, 0.5)
    assert widths["conv2"] == "32→16" and widths["classifier"] == "10→10"
    np.testing.assert_allclose(smaller.predict(digits.x_test[:20], verbose=0),
                               doomed.predict(digits.x_test[:20], verbose=0), atol=1e-5)


def test_channel_pruning_shrinks_tflite_and_macs_by_40_percent(base, digits, tune, make, int8_record):
    record = make(channel_prune(base, digits, ChannelPruneParams(0.5), tune))
    assert record.tflite_bytes <= 0.6 * int8_record.tflite_bytes
    assert record.macs <= 0.6 * int8_record.macs
    assert record.params < int8_record.params
    assert record.deployable and record.accuracy_tflite > 0.85


def test_channel_pruning_refuses_branching_models():
    import tf_keras

    inputs = tf_keras.Input((8, 8, 1))
    a = tf_keras.layers.Conv2D(4, 3, padding="same")(inputs)
    b = tf_keras.layers.Conv2D(4, 1)(inputs)
    out = tf_keras.layers.Dense(10)(tf_keras.layers.Flatten()(tf_keras.layers.Add()([a, b])))
    with pytest.raises(UnsupportedModelError, match="single-input layer chains"):
        prune_channels(tf_keras.Model(inputs, out), 0.5)


def test_svd_factors_exact_at_full_rank_and_best_at_low_rank():
    matrix = np.random.default_rng(0).normal(size=(12, 6))
    a, b, energy = svd_factors(matrix, 6)
    np.testing.assert_allclose(a @ b, matrix, atol=1e-10)
    assert energy == pytest.approx(1.0)
    a, b, energy = svd_factors(matrix, 2)
    assert a.shape == (12, 2) and b.shape == (2, 6) and 0 < energy < 1


def test_low_rank_factorization_at_full_rank_keeps_outputs(base, digits):
    model, factored = factorize(base, 8)
    assert set(factored) == {"conv3_1x1", "dense", "classifier"}
    names = [layer.name for layer in model.layers]
    assert "dense_lr_in" in names and "dense_lr_out" in names
    # Rank 10 on the 64x10 classifier would not save anything, so it stays whole.
    _, factored = factorize(base, 10)
    assert "classifier" not in factored


def test_low_rank_variant(base, digits, tune, make, int8_record):
    record = make(low_rank(base, digits, LowRankParams(8), tune))
    assert record.params < 0.5 * int8_record.params
    assert record.macs < int8_record.macs
    assert record.deployable and record.accuracy_tflite > 0.85


def test_low_rank_refuses_rank_that_saves_nothing(base):
    with pytest.raises(UnsupportedModelError, match="saves nothing"):
        factorize(base, 10_000)
