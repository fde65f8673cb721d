"""The base model: a small tf_keras CNN for digits, or a user Keras file (Keras 2 or 3)."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import ModelFormatError

from .data import Dataset


@dataclass(frozen=True)
class TrainConfig:
    """How long and how fast to train or fine-tune."""

    epochs: int = 12
    batch_size: int = 32
    learning_rate: float = 2e-3


@dataclass(frozen=True)
class LoadedModel:
    """A tf_keras model plus a sentence on how it was obtained (converted or not)."""

    model: object
    note: str


def build_default_model(input_shape: tuple[int, ...], num_classes: int, width: int = 16, logits: bool = False):
    """The digits CNN for image-like inputs (H, W, C); a two-layer MLP for feature vectors."""
    if len(input_shape) == 3:
        return build_digits_cnn(input_shape, num_classes, width, logits)
    import tf_keras as keras

    return keras.Sequential(
        [
            keras.layers.InputLayer(input_shape),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(8 * width, activation="relu", name="dense1"),
            keras.layers.Dense(4 * width, activation="relu", name="dense2"),
            keras.layers.Dense(num_classes, activation=None if logits else "softmax", name="classifier"),
        ],
        name=f"mlp_w{width}",
    )


def build_digits_cnn(input_shape: tuple[int, ...], num_classes: int, width: int = 16, logits: bool = False):
    """Conv 3x3 → conv 3x3 → pool → conv 1x1 → dense → softmax, built with tf_keras for tfmot.

    The 1x1 conv and the hidden dense layer give low-rank factorization something to factor;
    `width` scales every layer (the distillation student uses a smaller one); `logits` leaves the
    softmax out (distillation trains on logits).
    """
    import tf_keras as keras

    layers = keras.layers
    return keras.Sequential(
        [
            layers.InputLayer(input_shape),
            layers.Conv2D(width, 3, padding="same", activation="relu", name="conv1"),
            layers.Conv2D(2 * width, 3, padding="same", activation="relu", name="conv2"),
            layers.MaxPooling2D(name="pool"),
            layers.Conv2D(2 * width, 1, activation="relu", name="conv3_1x1"),
            layers.Flatten(name="flatten"),
            layers.Dense(4 * width, activation="relu", name="dense"),
            layers.Dense(num_classes, activation=None if logits else "softmax", name="classifier"),
        ],
        name=f"digits_cnn_w{width}",
    )


def looks_like_probabilities(outputs: np.ndarray) -> bool:
    """True for softmax outputs (non-negative rows summing to 1); user models may emit logits."""
    return bool(np.all(outputs >= 0) and np.allclose(outputs.sum(axis=-1), 1.0, atol=1e-3))


def compile_model(model, learning_rate: float, from_logits: bool = False) -> None:
    import tf_keras as keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits),
        metrics=["accuracy"],
    )


def train(model, data: Dataset, config: TrainConfig, callbacks: tuple = ()) -> None:
    """Compile (fresh optimizer) and fit; shuffling follows the global seed.

    The loss takes logits or probabilities depending on what the model emits (probed on a few
    training samples, which also works through tfmot wrappers).
    """
    probe = model(data.x_train[:8], training=False).numpy()
    compile_model(model, config.learning_rate, from_logits=not looks_like_probabilities(probe))
    model.fit(
        data.x_train,
        data.y_train,
        epochs=config.epochs,
        batch_size=config.batch_size,
        callbacks=list(callbacks),
        verbose=0,
    )


def keras_accuracy(model, data: Dataset) -> float:
    probs = model.predict(data.x_test, batch_size=256, verbose=0)
    return float(np.mean(np.argmax(probs, axis=-1) == data.y_test))


def load_user_model(path: Path) -> LoadedModel:
    """Load a .keras / .h5 file as a tf_keras model (tfmot only works on tf_keras).

    A Keras 3 model is rebuilt layer by layer in tf_keras from its configs and weights;
    anything else raises ModelFormatError naming the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFormatError(f"model file not found: {path}")
    suffix = path.suffix.lower()
    if suffix not in (".keras", ".h5", ".hdf5"):
        raise ModelFormatError(f"{path}: not a Keras model file (expected .keras or .h5, got {suffix!r})")
    if suffix == ".keras":
        version = _keras_zip_version(path)
    else:
        version = _h5_keras_version(path)
    if version.startswith("3"):
        return _load_keras3(path, version)
    import tf_keras

    try:
        model = tf_keras.models.load_model(path, compile=False)
    except Exception as exc:  # tf_keras raises many types for foreign files
        raise ModelFormatError(f"{path}: tf_keras could not load it ({exc})") from exc
    return LoadedModel(model, f"loaded {path.name} as a tf_keras {version} model (no conversion)")


def _keras_zip_version(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            metadata = json.loads(archive.read("metadata.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise ModelFormatError(f"{path}: not a Keras model archive ({exc})") from exc
    return str(metadata.get("keras_version", "unknown"))


def _h5_keras_version(path: Path) -> str:
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            if "model_config" not in handle.attrs:
                raise ModelFormatError(f"{path}: HDF5 file without a Keras model_config (weights only?)")
            version = handle.attrs.get("keras_version", "unknown")
    except OSError as exc:
        raise ModelFormatError(f"{path}: not an HDF5 Keras model ({exc})") from exc
    return version.decode() if isinstance(version, bytes) else str(version)


def _load_keras3(path: Path, version: str) -> LoadedModel:
    import keras

    try:
        source = keras.saving.load_model(path, compile=False)
    except Exception as exc:
        raise ModelFormatError(f"{path}: Keras {version} could not load it ({exc})") from exc
    from .keras3_convert import to_tf_keras

    model, dropped = to_tf_keras(source)
    detail = f"; dropped Keras 3-only settings: {', '.join(dropped)}" if dropped else ""
    return LoadedModel(
        model,
        f"converted {path.name} from Keras {version} to tf_keras (rebuilt from layer configs + weights{detail})",
    )


def clone(model):
    """An independent copy with the same weights (tfmot wrappers must not share layers)."""
    import tf_keras

    copy = tf_keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def fit(model, data: Dataset, epochs: int, batch_size: int, learning_rate: float, callbacks=()) -> None:
    """Fine-tune: fresh Adam optimizer, cross-entropy on integer labels."""
    train(model, data, TrainConfig(epochs, batch_size, learning_rate), tuple(callbacks))


def steps_per_epoch(data: Dataset, batch_size: int) -> int:
    return -(-len(data.x_train) // batch_size)
