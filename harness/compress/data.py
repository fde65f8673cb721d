"""Data sets for compression: scikit-learn's bundled digits or a user `.npz`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import DataError

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


@dataclass(frozen=True)
class Dataset:
    """Train/test arrays: x float32 with a channel axis, y integer class ids."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    def calibration(self, count: int = 200) -> np.ndarray:
        """The first `count` training samples, for the int8 representative data set."""
        return self.x_train[:count]


def load_digits_dataset(seed: int = 0, test_fraction: float = 0.2) -> Dataset:
    """scikit-learn's 8x8 digits (bundled, no download), scaled to [0, 1], stratified split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., np.newaxis]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    return Dataset("digits", x_train, y_train, x_test, y_test)


def load_npz_dataset(path: Path) -> Dataset:
    """A user data set: an `.npz` with x_train, y_train, x_test, y_test."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise DataError(f"{path}: missing arrays {missing} (need {list(NPZ_KEYS)})")
            arrays = {key: archive[key] for key in NPZ_KEYS}
    except DataError:
        raise
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .npz archive ({exc})") from exc
    return _validated(path.stem, **arrays)


def load_dataset(spec: str, seed: int = 0) -> Dataset:
    """`digits` or a path to an `.npz`."""
    if spec == "digits":
        return load_digits_dataset(seed)
    if spec.endswith(".npz") or Path(spec).exists():
        return load_npz_dataset(Path(spec))
    raise DataError(f"unknown data set {spec!r}: use 'digits' or a path to an .npz file")


def _validated(name: str, x_train, y_train, x_test, y_test) -> Dataset:
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.ndim < 2:
            raise DataError(f"x_{split} must have a sample axis and features, got shape {x.shape}")
        if y.ndim != 1:
            raise DataError(f"y_{split} must be 1-D class ids, got shape {y.shape}")
        if len(x) != len(y):
            raise DataError(f"x_{split} has {len(x)} samples but y_{split} has {len(y)}")
        if len(x) == 0:
            raise DataError(f"x_{split} is empty")
        if not np.issubdtype(y.dtype, np.integer):
            if not np.issubdtype(y.dtype, np.floating) or not np.all(np.mod(y, 1) == 0):
                raise DataError(f"y_{split} must hold integer class ids, got dtype {y.dtype}")
        if y.min() < 0:
            raise DataError(f"y_{split} holds negative labels")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(f"x_train samples are {x_train.shape[1:]} but x_test samples are {x_test.shape[1:]}")
    if x_train.ndim == 3:  # (n, h, w) images: give them the channel axis a Conv2D expects
        x_train, x_test = x_train[..., np.newaxis], x_test[..., np.newaxis]
    unseen = sorted(set(np.unique(y_test).tolist()) - set(np.unique(y_train).tolist()))
    if unseen:
        raise DataError(f"y_test holds labels never seen in y_train: {unseen}")
    return Dataset(
        name,
        x_train.astype(np.float32),
        y_train.astype(np.int64),
        x_test.astype(np.float32),
        y_test.astype(np.int64),
    )
