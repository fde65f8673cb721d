"""Shared, session-scoped fixtures: one data split and one trained base model for all tests."""

from __future__ import annotations

import pytest

from harness.compress._runtime import seed_everything
from harness.compress.data import load_digits_dataset
from harness.compress.models import TrainConfig, build_digits_cnn, keras_accuracy, train
from harness.compress.params import FineTune

SEED = 0


@pytest.fixture(scope="session")
def digits():
    return load_digits_dataset(SEED)


@pytest.fixture(scope="session")
def base(digits):
    """The built-in CNN trained briefly (10 epochs, ~2 s): accurate enough to compare variants."""
    seed_everything(SEED)
    model = build_digits_cnn(digits.input_shape, digits.num_classes)
    train(model, digits, TrainConfig(epochs=10))
    return model


@pytest.fixture(scope="session")
def base_accuracy(base, digits):
    return keras_accuracy(base, digits)


@pytest.fixture(scope="session")
def tune():
    return FineTune(epochs=3)


@pytest.fixture(scope="session")
def outdir(tmp_path_factory):
    return tmp_path_factory.mktemp("variants")


@pytest.fixture(scope="session")
def make(digits, outdir):
    """Materialize a candidate into the shared output directory and return its record."""
    from harness.compress.variant import materialize

    def _make(candidate):
        return materialize(candidate, digits, outdir, SEED, 0.0)

    return _make


@pytest.fixture(scope="session")
def int8_record(base, make):
    from harness.compress.quantize import ptq_int8

    return make(ptq_int8(base))
