"""Fixtures for the code generator's tests: tiny per-op models converted once per session."""

from __future__ import annotations

import numpy as np
import pytest
import tiny_models


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("tiny_models")


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir):
    """tiny_model(name) -> path of the converted .tflite (built on first use)."""
    cache = {}

    def get(name: str):
        if name not in cache:
            cache[name] = tiny_models.convert(name, tiny_model_dir)
        return cache[name]

    return get


def random_inputs(tensor, n: int, seed: int = 1) -> np.ndarray:
    """n random samples for a model input: full int8 range, or N(0, 1) floats (KWS-like scale if large)."""
    rng = np.random.default_rng(seed)
    shape = (n, *tensor.shape[1:]) if tensor.shape and tensor.shape[0] == 1 else (n, *tensor.shape)
    if tensor.dtype in (np.int8, np.uint8):
        info = np.iinfo(tensor.dtype)
        return rng.integers(info.min, info.max + 1, size=shape, dtype=tensor.dtype)
    scale = float(tensor.quant.scale[0]) * 40 if tensor.quant is not None else 1.0
    return rng.normal(0, scale, size=shape).astype(np.float32)
