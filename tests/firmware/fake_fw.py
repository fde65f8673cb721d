"""Helpers for the firmware tests: the fake model's inputs and numpy reference, tool checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

FAKE_MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "fake_model"
BOARDS = ("mps2_an386", "netduinoplus2")


def fake_inputs() -> np.ndarray:
    """The four inputs of fake_model/data.c: x[k][i] = (37k + 11i) % 256 - 128."""
    k, i = np.meshgrid(np.arange(4), np.arange(16), indexing="ij")
    return ((37 * k + 11 * i) % 256 - 128).astype(np.int8)


def fake_reference(x: np.ndarray) -> np.ndarray:
    """fake_model/model.c in numpy: dense (w[j][i] = (7i + 3j) % 11 - 5, >> 4, clamp) then ReLU."""
    i, j = np.meshgrid(np.arange(16), np.arange(8), indexing="ij")
    w = ((7 * i + 3 * j) % 11 - 5).astype(np.int32)
    acc = x.astype(np.int32) @ w >> 4
    return np.maximum(np.clip(acc, -128, 127), 0).astype(np.int8)


def require_build_tools() -> None:
    if not shutil.which("arm-none-eabi-gcc"):
        pytest.skip("arm-none-eabi-gcc is not installed")


def require_qemu() -> None:
    if not shutil.which("qemu-system-arm"):
        pytest.skip("qemu-system-arm is not installed")
