"""The demo's model: a small int8 CNN trained on scikit-learn's bundled 8x8 digits.

No network and no download: the digits set ships inside scikit-learn. The converted model uses
only CONV_2D, MAX_POOL_2D, RESHAPE, FULLY_CONNECTED and SOFTMAX (the builtin engine's first op
set), with int8 input and output so the device receives and returns raw int8 tensors.

Training and conversion print through Keras, TensorFlow's C++ logging and the converter; all of
it is captured at the file-descriptor level so `tinyhil demo --json` keeps stdout for JSON.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import TinyhilError
from harness.inputs import quantize
from harness.reference.capture import capture_fds

DEMO_OPS = ("CONV_2D", "MAX_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX")
TEST_SAMPLES = 450
MODEL_FILE = "demo_digits_cnn_int8.tflite"


@dataclass(frozen=True)
class DigitsSplit:
    """Digits scaled to [0, 1], shaped [N, 8, 8, 1] float32; labels int64 in 0..9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class DemoModel:
    tflite_path: Path
    x_test: np.ndarray  # [450, 8, 8, 1] int8, quantized with the model input's scale/zero point
    y_test: np.ndarray  # [450] int64 labels
    float_accuracy: float  # of the Keras float model on the same test samples
    input_scale: float
    input_zero_point: int
    seed: int

    @property
    def name(self) -> str:
        return self.tflite_path.stem


def load_digits_split(seed: int = 0) -> DigitsSplit:
    """A stratified split of scikit-learn's digits with exactly TEST_SAMPLES test samples."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0)[..., np.newaxis]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_SAMPLES, stratify=y, random_state=seed
    )
    return DigitsSplit(x_train, y_train, x_test, y_test)


def build_demo_model(out_dir: str | Path, seed: int = 0, epochs: int = 12) -> DemoModel:
    """Train the demo CNN, convert it to full-integer int8 and write it to `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    split = load_digits_split(seed)
    with capture_fds(1, 2) as log:
        try:
            tflite_bytes, float_accuracy = _train_and_convert(split, seed, epochs)
            failure = None
        except Exception as e:  # TensorFlow fails in many types; the log tells the story
            failure = e
    if failure is not None:
        raise TinyhilError(
            f"training or converting the demo model failed: {failure}\n{log.all.strip()[-4000:]}"
        ) from failure
    path = out_dir / MODEL_FILE
    path.write_bytes(tflite_bytes)
    scale, zero_point = _input_quantization(path)
    return DemoModel(
        tflite_path=path,
        x_test=quantize(split.x_test, scale, zero_point),
        y_test=split.y_test,
        float_accuracy=float_accuracy,
        input_scale=scale,
        input_zero_point=zero_point,
        seed=seed,
    )


def _input_quantization(path: Path) -> tuple[float, int]:
    from harness.model import load_tflite

    model = load_tflite(path)
    quant = model.tensors[model.inputs[0]].quant
    return float(quant.scale[0]), int(quant.zero_point[0])


def _build_cnn(keras, batch_size: int | None):
    # Fixed names: Keras would number them per process, and the names land in the .tflite bytes.
    layers = keras.layers
    inputs = keras.Input(shape=(8, 8, 1), batch_size=batch_size, name="image")
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(10, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="digits_cnn")


def _train_and_convert(split: DigitsSplit, seed: int, epochs: int) -> tuple[bytes, float]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    import tf_keras as keras  # Keras 2: the flavour tfmot (compression) also works on

    keras.utils.set_random_seed(seed)
    model = _build_cnn(keras, batch_size=None)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(split.x_train, split.y_train, batch_size=32, epochs=epochs, shuffle=True, verbose=0)
    _, float_accuracy = model.evaluate(split.x_test, split.y_test, verbose=0)

    # A fixed batch of 1 makes Flatten a single RESHAPE (no SHAPE/STRIDED_SLICE/PACK).
    deployed = _build_cnn(keras, batch_size=1)
    deployed.set_weights(model.get_weights())

    def representative():
        for sample in split.x_train[:200]:
            yield [sample[np.newaxis]]

    converter = tf.lite.TFLiteConverter.from_keras_model(deployed)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    with warnings.catch_warnings():
        # Always raised for int8 inputs; the quantization comes from the representative data.
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs were expected")
        return converter.convert(), float(float_accuracy)
