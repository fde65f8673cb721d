"""Shared test helpers: where the reference models are, and a tiny int8 model built with TensorFlow."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_MODELS = REPO.parent / "shared" / "models"


def reference_model(filename: str) -> Path:
    """A MLPerf Tiny model: ../shared/models when present (CI, developers), else the zoo (fresh clone)."""
    local = SHARED_MODELS / filename
    if local.exists():
        return local
    try:
        from harness import zoo
    except ImportError:
        pytest.skip(f"{filename}: not in ../shared/models and harness.zoo is not available")
    return zoo.reference_model(filename)


@pytest.fixture(scope="session")
def ic_model() -> Path:
    return reference_model("mlperf_tiny_ic_resnet8_int8.tflite")


@pytest.fixture(scope="session")
def kws_model() -> Path:
    return reference_model("mlperf_tiny_kws_dscnn.tflite")
