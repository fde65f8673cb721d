import numpy as np
import pytest

from harness.compress.data import load_dataset, load_digits_dataset, load_npz_dataset
from harness.errors import DataError


def _save(path, **arrays):
    np.savez(path, **arrays)
    return path


def _good_arrays(n_train=20, n_test=10):
    rng = np.random.default_rng(0)
    return dict(
        x_train=rng.random((n_train, 8, 8)).astype(np.float32), y_train=np.arange(n_train) % 3,
        x_test=rng.random((n_test, 8, 8)).astype(np.float32), y_test=np.arange(n_test) % 3,
    )


def test_digits_split_is_stratified_and_seeded():
    a, b = load_digits_dataset(0), load_digits_dataset(0)
    assert a.input_shape == (8, 8, 1) and a.num_classes == 10
    assert len(a.x_train) + len(a.x_test) == 1797
    np.testing.assert_array_equal(a.y_test, b.y_test)
    counts = np.bincount(a.y_test, minlength=10)
    assert counts.min() >= 34 and counts.max() <= 38  # ~36 per class: stratified
    assert 0.0 <= a.x_train.min() and a.x_train.max() <= 1.0


def test_npz_round_trip_adds_channel_axis(tmp_path):
    data = load_npz_dataset(_save(tmp_path / "ok.npz", **_good_arrays()))
    assert data.input_shape == (8, 8, 1) and data.num_classes == 3
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64


def test_npz_missing_key(tmp_path):
    arrays = _good_arrays()
    del arrays["y_test"]
    with pytest.raises(DataError, match="missing arrays.*y_test"):
        load_npz_dataset(_save(tmp_path / "bad.npz", **arrays))


def test_npz_mismatched_sample_counts(tmp_path):
    arrays = _good_arrays()
    arrays["y_train"] = arrays["y_train"][:-1]
    with pytest.raises(DataError, match="x_train has 20 samples but y_train has 19"):
        load_npz_dataset(_save(tmp_path / "bad.npz", **arrays))


def test_npz_mismatched_sample_shapes(tmp_path):
    arrays = _good_arrays()
    arrays["x_test"] = np.zeros((10, 9, 9), np.float32)
    with pytest.raises(DataError, match="x_train samples are"):
        load_npz_dataset(_save(tmp_path / "bad.npz", **arrays))


def test_npz_bad_labels(tmp_path):
    arrays = _good_arrays()
    arrays["y_train"] = arrays["y_train"] + 0.5
    with pytest.raises(DataError, match="integer class ids"):
        load_npz_dataset(_save(tmp_path / "frac.npz", **arrays))
    arrays = _good_arrays()
    arrays["y_test"] = arrays["y_test"] + 5
    with pytest.raises(DataError, match="never seen in y_train"):
        load_npz_dataset(_save(tmp_path / "unseen.npz", **arrays))


def test_unknown_data_spec_and_unreadable_file(tmp_path):
    with pytest.raises(DataError, match="unknown data set"):
        load_dataset("cifar-1000")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not an archive")
    with pytest.raises(DataError, match="not a readable .npz"):
        load_npz_dataset(junk)
