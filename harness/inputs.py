"""The samples a bench run sends: from a user's .npz, or random within the model input's range.

Whatever comes in, what leaves is an array [N, *input_shape] in the model's own input dtype, so the
same bytes go to the device and to the host reference.
"""

from __future__ import annotations

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


def load_samples(model: TfliteModel, data: Path | None, samples: int | None, seed: int = 0) -> Samples:
    inp = model.tensor(model.inputs[0])
    if data is None:
        return random_samples(model, samples or DEFAULT_RANDOM_SAMPLES, seed)
    try:
        with np.load(data, allow_pickle=False) as npz:
            if "x" not in npz:
                raise DataError(f"{data}: no array named 'x' (found: {', '.join(npz.files) or 'none'})")
            x, y = npz["x"], (npz["y"] if "y" in npz else None)
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read {data} as .npz: {e}") from e
    if samples is not None:
        if samples < 1:
            raise DataError(f"--samples must be at least 1, got {samples}")
        x, y = x[:samples], (y[:samples] if y is not None else None)
    x = _fit_shape(np.asarray(x), inp.shape, data)
    if y is not None:
        y = np.asarray(y).reshape(-1)
        if y.shape[0] != x.shape[0]:
            raise DataError(f"{data}: {x.shape[0]} samples in x but {y.shape[0]} labels in y")
    if x.dtype != inp.dtype:
        if np.issubdtype(x.dtype, np.floating) and np.issubdtype(inp.dtype, np.integer) and inp.quant is not None:
            x = _quantize(x, inp)  # float data for an int8 model: quantize with the input's parameters
        elif np.issubdtype(inp.dtype, np.floating):
            x = x.astype(inp.dtype)
        else:
            raise DataError(f"{data}: x is {x.dtype}, the model input is {inp.dtype}")
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
