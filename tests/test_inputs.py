import numpy as np
import pytest

from harness.errors import DataError
from harness.inputs import input_range_for_float, load_samples
from harness.model import load_tflite


def test_random_int8_inputs_cover_the_range(ic_model):
    s = load_samples(load_tflite(ic_model), None, 4, seed=1)
    assert s.x.shape == (4, 1, 32, 32, 3) and s.x.dtype == np.int8 and s.y is None
    assert s.x.min() == -128 and s.x.max() == 127
    assert np.array_equal(s.x, load_samples(load_tflite(ic_model), None, 4, seed=1).x)


def test_random_float_inputs_stay_in_the_quantize_range(kws_model):
    model = load_tflite(kws_model)
    low, high = input_range_for_float(model)
    s = load_samples(model, None, 3)
    assert s.x.dtype == np.float32 and low <= s.x.min() and s.x.max() <= high


def test_npz_float_data_is_quantized_for_int8_model(tmp_path, ic_model):
    model = load_tflite(ic_model)
    q = model.tensor(model.inputs[0]).quant
    x = (np.arange(2 * 32 * 32 * 3).reshape(2, 32, 32, 3) % 50).astype(np.float32) * float(q.scale[0])
    np.savez(tmp_path / "d.npz", x=x, y=np.array([3, 4]))
    s = load_samples(model, tmp_path / "d.npz", None)
    assert s.x.dtype == np.int8 and s.x.shape == (2, 1, 32, 32, 3) and list(s.y) == [3, 4]
    assert np.array_equal(s.x.reshape(-1).astype(int), (x.reshape(-1) / float(q.scale[0])).round().astype(int)
                          + int(q.zero_point[0]))


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"z": np.zeros(3)}, "no array named 'x'"),
        ({"x": np.zeros((2, 5), np.int8)}, "the model takes"),
        ({"x": np.zeros((2, 32, 32, 3), np.int8), "y": np.zeros(3)}, "2 samples in x but 3 labels"),
    ],
)
def test_bad_npz_names_the_problem(tmp_path, ic_model, arrays, message):
    np.savez(tmp_path / "d.npz", **arrays)
    with pytest.raises(DataError, match=message):
        load_samples(load_tflite(ic_model), tmp_path / "d.npz", None)


def test_unreadable_npz(tmp_path, ic_model):
    (tmp_path / "d.npz").write_text("nope")
    with pytest.raises(DataError, match="is not an .npz file"):
        load_samples(load_tflite(ic_model), tmp_path / "d.npz", None)
