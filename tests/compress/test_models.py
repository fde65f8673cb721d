"""User models: tf_keras loaded as is, Keras 3 rebuilt in tf_keras (and said so), others refused."""

import numpy as np
import pytest

from harness.compress.methods import Settings
from harness.compress.models import load_user_model
from harness.compress.run import prepare_base
from harness.errors import DataError, ModelFormatError


@pytest.fixture(scope="module")
def keras3_model():
    import keras

    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    skip = keras.layers.Conv2D(4, 1)(inputs)
    x = keras.layers.BatchNormalization()(keras.layers.Add()([x, skip]))
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x))
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_keras3_model_is_rebuilt_in_tf_keras(tmp_path, keras3_model, suffix):
    import tf_keras

    path = tmp_path / f"k3{suffix}"
    keras3_model.save(path)
    loaded = load_user_model(path)
    assert isinstance(loaded.model, tf_keras.Model)
    assert "converted" in loaded.note and "Keras 3" in loaded.note and "tf_keras" in loaded.note
    x = np.random.default_rng(0).random((4, 8, 8, 1), np.float32)
    np.testing.assert_allclose(loaded.model.predict(x, verbose=0), keras3_model.predict(x, verbose=0), atol=1e-5)


def test_tf_keras_model_loaded_without_conversion(tmp_path, base):
    path = tmp_path / "tk.keras"
    base.save(path)
    loaded = load_user_model(path)
    assert "no conversion" in loaded.note
    np.testing.assert_allclose(loaded.model.get_weights()[0], base.get_weights()[0])


def test_not_a_keras_model(tmp_path):
    tflite_like = tmp_path / "model.tflite"
    tflite_like.write_bytes(b"\x1c\x00\x00\x00TFL3")
    with pytest.raises(ModelFormatError, match="not a Keras model file"):
        load_user_model(tflite_like)
    fake = tmp_path / "fake.keras"
    fake.write_text("hello")
    with pytest.raises(ModelFormatError, match="not a Keras model archive"):
        load_user_model(fake)
    fake_h5 = tmp_path / "fake.h5"
    fake_h5.write_text("hello")
    with pytest.raises(ModelFormatError, match="HDF5"):
        load_user_model(fake_h5)
    with pytest.raises(ModelFormatError, match="not found"):
        load_user_model(tmp_path / "missing.keras")


def test_weights_only_h5_refused(tmp_path, base):
    path = tmp_path / "only.weights.h5"
    base.save_weights(path)
    with pytest.raises(ModelFormatError, match="model_config"):
        load_user_model(path)


def test_model_and_data_shapes_must_agree(tmp_path, digits):
    import tf_keras

    model = tf_keras.Sequential([tf_keras.layers.InputLayer((28, 28, 1)), tf_keras.layers.Flatten(),
                                 tf_keras.layers.Dense(10, activation="softmax")])
    path = tmp_path / "mnist_shaped.keras"
    model.save(path)
    with pytest.raises(DataError, match=r"expects inputs of shape \(28, 28, 1\).*\(8, 8, 1\)"):
        prepare_base(str(path), digits, Settings(), seed=0)


def test_converted_keras3_sequential_is_a_chain_for_surgery(tmp_path):
    """Keras 3 records a Sequential call more than once; the rebuild must still be a plain chain."""
    import keras

    from harness.compress.channel_prune import prune_channels
    from harness.compress.lowrank import factorize

    source = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(8, 3, activation="relu"),
                               keras.layers.Flatten(), keras.layers.Dropout(0.1),
                               keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10)])
    path = tmp_path / "seq.keras"
    source.save(path)
    model = load_user_model(path).model
    smaller, widths = prune_channels(model, 0.5)
    assert sorted(widths.values()) == ["10→10", "32→16", "8→4"]
    assert smaller.count_params() < model.count_params()
    factored, notes = factorize(model, 4)
    assert notes and factored.count_params() < model.count_params()


def test_models_emitting_logits_train_with_the_right_loss(digits):
    from harness.compress.models import (
        TrainConfig,
        build_default_model,
        keras_accuracy,
        looks_like_probabilities,
        train,
    )

    assert looks_like_probabilities(np.array([[0.2, 0.8], [1.0, 0.0]]))
    assert not looks_like_probabilities(np.array([[2.0, -1.0]]))
    model = build_default_model(digits.input_shape, digits.num_classes, width=4, logits=True)
    train(model, digits, TrainConfig(epochs=4))
    assert model.loss.get_config()["from_logits"] is True
    assert keras_accuracy(model, digits) > 0.8
