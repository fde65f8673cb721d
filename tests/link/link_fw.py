"""Firmware for the link tests and benchmarks/faults.py: the fake model (tests/fixtures/fake_model)
with N flash samples and, optionally, a busy loop per inference so that a run lasts long enough to
be interrupted in the middle."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

FAKE_MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "fake_model"
N_SAMPLES = 40  # flash samples of the link tests' firmware


def inputs(n: int) -> np.ndarray:
    """x[k][i] = (37k + 11i) % 256 - 128, as fake_model/data.c has for its 4 samples."""
    k, i = np.meshgrid(np.arange(n), np.arange(16), indexing="ij")
    return ((37 * k + 11 * i) % 256 - 128).astype(np.int8)


def reference(x: np.ndarray) -> np.ndarray:
    """The fake model in numpy: dense (w[j][i] = (7i + 3j) % 11 - 5, >> 4, clamp) then ReLU."""
    i, j = np.meshgrid(np.arange(16), np.arange(8), indexing="ij")
    acc = x.astype(np.int32) @ ((7 * i + 3 * j) % 11 - 5).astype(np.int32) >> 4
    return np.maximum(np.clip(acc, -128, 127), 0).astype(np.int8)


def make_model(out: Path, n_samples: int, spin: int = 0) -> Path:
    """A model directory: fake_model with `n_samples` inputs in flash and `spin` idle loop turns
    at the start of every inference."""
    out = Path(out)
    shutil.copytree(FAKE_MODEL, out, dirs_exist_ok=True)
    rows = ",\n".join("  " + ", ".join(str(int(v) & 0xFF) for v in row) for row in inputs(n_samples))
    (out / "data.c").write_text(
        '#include "tinyhil_model.h"\n\n'
        f"const uint32_t th_data_count = {n_samples};\n\n"
        f"const uint8_t th_data_inputs[] = {{\n{rows}\n}};\n"
    )
    if spin:
        src = (out / "model.c").read_text()
        marker = "  if (hook) hook(0, ctx);\n"
        assert marker in src
        loop = f"  for (volatile uint32_t spin = 0; spin < {spin}u; spin++) {{\n  }}\n"
        (out / "model.c").write_text(src.replace(marker, loop + marker, 1))
    return out
