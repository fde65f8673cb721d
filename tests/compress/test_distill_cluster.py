"""Distillation (reported next to the scratch student, no assumption it wins) and clustering."""

import numpy as np
import pytest

from harness.compress.cluster import cluster
from harness.compress.distill import distill, distillation_loss, scratch_student, soft_targets
from harness.compress.models import TrainConfig
from harness.compress.params import ClusterParams, DistillParams


def test_soft_targets_temperature():
    probs = np.array([[0.7, 0.2, 0.1]], np.float32)
    np.testing.assert_allclose(soft_targets(probs, 1.0), probs, rtol=1e-5)
    softer = soft_targets(probs, 4.0)
    assert softer.max() < 0.7 and softer.sum() == pytest.approx(1.0)


def test_distillation_loss_terms():
    import tensorflow as tf

    logits = tf.constant([[2.0, 0.5, -1.0]])
    hard = np.array([[1.0, 0.0, 0.0]], np.float32)
    same = tf.nn.softmax(logits / 3.0).numpy()
    ce = tf.nn.softmax_cross_entropy_with_logits(hard, logits).numpy()
    alpha_one = distillation_loss(3, 1.0, 3.0)(np.concatenate([hard, same], 1), logits).numpy()
    np.testing.assert_allclose(alpha_one, ce, rtol=1e-5)
    # KL is zero when the student's softened output equals the target: only alpha·CE remains.
    half = distillation_loss(3, 0.5, 3.0)(np.concatenate([hard, same], 1), logits).numpy()
    np.testing.assert_allclose(half, 0.5 * ce, rtol=1e-4)


def test_distilled_and_scratch_students_share_architecture_and_budget(base, digits, make):
    params, budget = DistillParams(alpha=0.5, temperature=4.0, student_width=8), TrainConfig(epochs=6)
    distilled = make(distill(base, digits, params, budget, seed=0))
    scratch = make(scratch_student(digits, params, budget, seed=0))
    assert (distilled.params, distilled.macs) == (scratch.params, scratch.macs)
    assert distilled.method == "distill" and scratch.method == "scratch_student"
    assert '"temperature": 4.0' in distilled.params_json and '"epochs": 6' in scratch.params_json
    for record in (distilled, scratch):  # both trained for real; which one wins is only reported
        assert record.deployable and record.accuracy_tflite > 0.8


def test_clustering_limits_distinct_weights(base, digits, make, int8_record):
    from harness.compress.params import FineTune
    from harness.model import load_tflite

    candidate = cluster(base, digits, ClusterParams(8), FineTune(2, 3e-4))
    assert candidate.notes["max_distinct_weights_per_kernel"] <= 8
    record = make(candidate)
    assert record.gzip_bytes < int8_record.gzip_bytes and record.deployable
    model = load_tflite(record.tflite_path)
    conv2 = [op for op in model.operators if op.op == "CONV_2D"][1]
    weights = model.tensor(conv2.inputs[1]).data  # int8 [out, h, w, in]
    assert max(len(np.unique(channel)) for channel in weights) <= 8
