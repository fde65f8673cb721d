"""The samples a bench run sends: from a user's .npz, or random within the model input's range.

Whatever comes in, what leaves is an array [N, *input_shape] in the model's own input dtype, so the
same bytes go to the device and to the host reference.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import DataError
from harness.model import Tensor, TfliteModel

DEFAULT_RANDOM_SAMPLES = 10


@dataclass(frozen=True, eq=False)
class Samples:
    x: np.ndarray  # [N, *input_shape], model input dtype
    y: np.ndarray | None  # [N] integer labels, or None
    source: str  # "random(seed=0)" or the .npz path


def quantize(x: np.ndarray, scale: float, zero_point: int, dtype=np.int8) -> np.ndarray:
    """Float to integer as TFLite's QUANTIZE does it: round half to even, then saturate."""
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zero_point, info.min, info.max).astype(dtype)


def _quantize(x: np.ndarray, tensor: Tensor) -> np.ndarray:
    return quantize(x, float(tensor.quant.scale[0]), int(tensor.quant.zero_point[0]), tensor.dtype)


def _fit_shape(x: np.ndarray, shape: tuple[int, ...], path: Path) -> np.ndarray:
    per_sample = shape[1:] if shape and shape[0] == 1 else shape
    n = x.shape[0] if x.ndim else 0
    size = int(np.prod(per_sample, dtype=np.int64))
    if x.ndim == 0 or x[0].size != size:
        raise DataError(
            f"{path}: x has samples of shape {tuple(x.shape[1:])}, the model takes {tuple(per_sample)} "
            f"({size} values each)"
        )
    return x.reshape((n, *shape))


NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK"


def _read_npz(data: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """x (and y) from an .npz, or a DataError saying what the file is instead."""
    try:
        with open(data, "rb") as fp:
            head = fp.read(len(NPY_MAGIC))
    except OSError as e:
        raise DataError(f"cannot read {data}: {e.strerror or e}") from e
    if head.startswith(NPY_MAGIC):
        raise DataError(f"{data} is a .npy file (one bare array); --data takes an .npz with x (and y labels): "
                        "np.savez('data.npz', x=x, y=y)")
    if not head.startswith(ZIP_MAGIC):
        what = "empty" if not head else "not a zip archive"
        raise DataError(f"{data} is not an .npz file ({what}); --data takes an .npz with x (and y labels): "
                        "np.savez('data.npz', x=x, y=y)")
    try:
        with np.load(data, allow_pickle=False) as npz:
            if "x" not in npz:
                raise DataError(f"{data}: no array named 'x' (found: {', '.join(npz.files) or 'none'})")
            return npz["x"], (npz["y"] if "y" in npz else None)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"cannot read {data} as .npz: {e}") from e


def _to_input_dtype(x: np.ndarray, inp: Tensor, data: Path) -> np.ndarray:
    """The samples in the model input's dtype: float data is quantized for an integer input with
    quantization parameters (and cast between float widths); anything else is refused."""
    if np.issubdtype(x.dtype, np.floating):
        nan, inf = int(np.isnan(x).sum()), int(np.isinf(x).sum())
        if nan or inf:
            counts = " and ".join(f"{n:,} {what}" for n, what in ((nan, "NaN"), (inf, "inf")) if n)
            raise DataError(f"{data}: x holds {counts} value(s) among its {x.size:,}; the model cannot "
                            "take them (they would be quantized or run as garbage): clean the data first")
    if x.dtype == inp.dtype:
        return x
    if np.issubdtype(inp.dtype, np.floating):
        if np.issubdtype(x.dtype, np.floating):
            return x.astype(inp.dtype)
        raise DataError(f"{data}: x is {x.dtype}, the model input is {inp.dtype}: expected floating-point "
                        f"samples ({inp.dtype}); convert them if they are the values the model takes")
    if np.issubdtype(x.dtype, np.floating) and inp.quant is not None:
        return _quantize(x, inp)  # float data for an int8 model: quantize with the input's parameters
    raise DataError(f"{data}: x is {x.dtype}, the model input is {inp.dtype}: expected {inp.dtype} samples, "
                    f"or float samples to quantize")


def load_samples(model: TfliteModel, data: Path | None, samples: int | None, seed: int = 0) -> Samples:
    inp = model.tensor(model.inputs[0])
    if samples is not None and samples < 1:
        raise DataError(f"--samples must be at least 1, got {samples}")
    if data is None:
        return random_samples(model, DEFAULT_RANDOM_SAMPLES if samples is None else samples, seed)
    x, y = _read_npz(data)
    x = np.asarray(x)
    if x.ndim == 0 or x.shape[0] == 0:
        raise DataError(f"{data}: x holds no samples (shape {tuple(x.shape)}); it needs at least one")
    if samples is not None:
        x, y = x[:samples], (y[:samples] if y is not None else None)
    x = _fit_shape(x, inp.shape, data)
    if y is not None:
        y = np.asarray(y).reshape(-1)
        if y.shape[0] != x.shape[0]:
            raise DataError(f"{data}: {x.shape[0]} samples in x but {y.shape[0]} labels in y")
    x = _to_input_dtype(x, inp, data)
    return Samples(x=np.ascontiguousarray(x), y=y, source=str(data))


def random_samples(model: TfliteModel, n: int, seed: int) -> Samples:
    inp = model.tensor(model.inputs[0])
    if n < 1:
        raise DataError(f"--samples must be at least 1, got {n}")
    rng = np.random.default_rng(seed)
    shape = (n, *inp.shape)
    if np.issubdtype(inp.dtype, np.integer):
        info = np.iinfo(inp.dtype)
        x = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(inp.dtype)
    else:
        # Float input: stay inside the range the leading QUANTIZE can represent, when there is one.
        low, high = input_range_for_float(model) or (-1.0, 1.0)
        x = rng.uniform(low, high, size=shape).astype(inp.dtype)
    return Samples(x=x, y=None, source=f"random(seed={seed})")


def input_range_for_float(model: TfliteModel) -> tuple[float, float] | None:
    """The float range the model's leading QUANTIZE maps onto int8, when it starts with one."""
    first = model.operators[0] if model.operators else None
    if first is None or first.op != "QUANTIZE":
        return None
    q = model.tensor(first.outputs[0]).quant
    scale, zp = float(q.scale[0]), int(q.zero_point[0])
    return (-128 - zp) * scale, (127 - zp) * scale
