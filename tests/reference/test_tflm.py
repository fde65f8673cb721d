"""Host TFLM reference: outputs, arena figures, refusals with reasons."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from harness.errors import DataError, ModelFormatError
from harness.model import load_tflite
from harness.reference import run_tflite, run_tflm, tflm_arena
from harness.reference.tflm import parse_allocations

HOST_64_BIT = sys.maxsize > 2**32


def _random_inputs(path, n, seed=0):
    model = load_tflite(path)
    tensor = model.tensors[model.inputs[0]]
    rng = np.random.default_rng(seed)
    shape = (n, *tensor.shape[1:])
    if tensor.dtype == np.int8:
        return rng.integers(-128, 128, shape, dtype=np.int8)
    return rng.normal(0, 1, shape).astype(tensor.dtype)


def _largest_op_activations(path) -> int:
    """Bytes of the biggest set of non-constant tensors one op touches: any plan holds at least these."""
    model = load_tflite(path)
    return max(
        sum(model.tensors[i].nbytes for i in op.inputs + op.outputs if i >= 0 and not model.tensors[i].is_constant)
        for op in model.operators
    )


@pytest.mark.parametrize(("fixture", "total"), [("ic_model", 55_984), ("kws_model", 24_448)])
def test_arena_figures(request, fixture, total):
    path = request.getfixturevalue(fixture)
    arena = tflm_arena(path)
    assert arena.head_bytes + arena.tail_bytes == arena.total_bytes
    assert arena.head_bytes >= _largest_op_activations(path)
    assert 0 < arena.tail_bytes < arena.head_bytes
    if HOST_64_BIT:  # the tail holds C++ structs, whose size depends on the host's pointer width
        assert arena.total_bytes == total


def test_ic_outputs_shape_dtype_and_softmax(ic_model):
    x = _random_inputs(ic_model, 4)
    y = run_tflm(ic_model, x)
    assert y.shape == (4, 10) and y.dtype == np.int8
    probabilities = (y.astype(np.float64) + 128) / 256  # output scale 1/256, zero point -128
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=0.05)


def test_kws_float_edges(kws_model):
    x = _random_inputs(kws_model, 3)
    y = run_tflm(kws_model, x)
    assert y.shape == (3, 12) and y.dtype == np.float32
    np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=0.05)


def test_samples_are_independent_and_full_shape_accepted(ic_model):
    a, b = _random_inputs(ic_model, 2, seed=1)
    batch = run_tflm(ic_model, np.stack([a, b, a]))
    np.testing.assert_array_equal(batch[0], batch[2])
    assert not np.array_equal(batch[0], batch[1])
    single = run_tflm(ic_model, b[np.newaxis, np.newaxis])  # [N, 1, 32, 32, 3]: the tensor's own shape
    np.testing.assert_array_equal(single[0], batch[1])


def test_tflite_agrees_with_tflm_on_the_class(ic_model):
    # Not bit-exact: a 1-LSB FULLY_CONNECTED difference grows through SOFTMAX (seed 2: 9 LSB of 1/256).
    x = _random_inputs(ic_model, 3, seed=2)
    micro, lite = run_tflm(ic_model, x), run_tflite(ic_model, x)
    np.testing.assert_array_equal(micro.argmax(axis=1), lite.argmax(axis=1))
    assert np.abs(micro.astype(int) - lite.astype(int)).max() <= 16


def test_wrong_dtype_and_shape_are_data_errors(ic_model):
    with pytest.raises(DataError, match="float32.*int8"):
        run_tflm(ic_model, np.zeros((1, 32, 32, 3), np.float32))
    with pytest.raises(DataError, match=r"expected \[N, 32, 32, 3\]"):
        run_tflm(ic_model, np.zeros((1, 32, 32), np.int8))


def test_corrupt_model_is_refused(tmp_path, ic_model):
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(ic_model.read_bytes()[:5000])
    garbage = tmp_path / "garbage.tflite"
    garbage.write_bytes(b"\x00\x00\x00\x00TFL3" + bytes(range(256)) * 8)
    for path in (truncated, garbage):
        with pytest.raises(ModelFormatError):
            run_tflm(path, np.zeros((1, 32, 32, 3), np.int8))
        with pytest.raises(ModelFormatError):
            tflm_arena(path)


def test_parse_allocations_needs_all_three_lines():
    text = (
        "[RecordingMicroAllocator] Arena allocation total 300 bytes\n"
        "[RecordingMicroAllocator] Arena allocation head 200 bytes\n"
        "[RecordingMicroAllocator] Arena allocation tail 100 bytes\n"
    )
    arena = parse_allocations(text)
    assert (arena.total_bytes, arena.head_bytes, arena.tail_bytes) == (300, 200, 100)
    with pytest.raises(ModelFormatError, match="tail"):
        parse_allocations(text.rsplit("\n", 2)[0])
