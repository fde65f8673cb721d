"""Unstructured pruning, 2:4 sparsity and pruning-preserving QAT: measured sparsity, dense size."""

import numpy as np
import pytest

from harness.compress.metrics import keras_kernels
from harness.compress.params import PruneParams
from harness.compress.prune import magnitude_prune, prune_2_4, prune_preserving_qat, schedule_steps


@pytest.fixture(scope="session")
def pruned_50(base, digits, tune):
    return magnitude_prune(base, digits, PruneParams(0.5), tune)


@pytest.mark.parametrize(("begin", "end", "frequency"), [(0, None, None), (5, 100, 7), (0, 37, None)])
def test_schedule_ends_on_a_pruning_step(begin, end, frequency):
    params = PruneParams(0.5, begin_step=begin, end_step=end, frequency=frequency)
    b, e, f = schedule_steps(params, total_steps=135)
    assert b == begin and (e - b) % f == 0 and e > b


@pytest.mark.parametrize("target", [0.5, 0.8])
def test_measured_sparsity_within_one_percent(base, digits, tune, make, int8_record, pruned_50, target):
    candidate = pruned_50 if target == 0.5 else magnitude_prune(base, digits, PruneParams(target), tune)
    record = make(candidate)
    assert abs((1.0 - record.nonzero_fraction) - target) <= 0.01  # measured in the .tflite weights
    assert record.tflite_bytes == pytest.approx(int8_record.tflite_bytes, rel=0.01)  # dense storage
    assert record.gzip_bytes < int8_record.gzip_bytes * (0.85 if target == 0.5 else 0.5)
    assert record.deployable and record.accuracy_tflite > 0.85
    assert candidate.params["schedule"] == "PolynomialDecay" and candidate.params["final_sparsity"] == target


def test_two_of_four_pattern(base, digits, tune, make):
    candidate = prune_2_4(base, digits, tune)
    checked = 0
    for kernel in keras_kernels(candidate.model):
        if kernel.shape[-2] % 4:
            continue  # e.g. the first conv has one input channel: tfmot leaves it dense
        blocks = np.moveaxis(kernel, -2, -1).reshape(-1, 4)  # groups of 4 along the input channels
        assert (np.count_nonzero(blocks, axis=1) <= 2).all()
        checked += 1
    assert checked >= 3
    record = make(candidate)
    assert 0.45 <= 1.0 - record.nonzero_fraction <= 0.51 and record.deployable


def test_prune_preserving_qat_keeps_sparsity(pruned_50, digits, make):
    from harness.compress.params import FineTune

    record = make(prune_preserving_qat(pruned_50, digits, FineTune(epochs=1, learning_rate=5e-4)))
    assert abs((1.0 - record.nonzero_fraction) - 0.5) <= 0.01
    assert record.deployable and record.accuracy_tflite > 0.85
