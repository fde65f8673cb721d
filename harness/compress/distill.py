"""Knowledge distillation (teacher → smaller student) and the same student trained from scratch.

Loss = alpha·CE(hard labels, student) + (1 − alpha)·T²·KL(softmax(t/T) ‖ softmax(s/T)). Teacher
logits are taken as log-probabilities (softmax-invariant), so any teacher with a softmax output
works. Both students start from the same seeded initial weights and get the same epochs, batch
size and learning rate: the only difference is the loss.
"""

from __future__ import annotations

import time
from dataclasses import asdict

import numpy as np

from ._runtime import seed_everything
from .convert import ConvertOptions, Quantization
from .data import Dataset
from .models import TrainConfig, build_default_model, looks_like_probabilities, train
from .params import DistillParams
from .variant import Candidate


def soft_targets(teacher_probs: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T), computed stably."""
    logits = np.log(np.clip(teacher_probs, 1e-12, None)) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    exp = np.exp(logits)
    return (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)


def distillation_loss(num_classes: int, alpha: float, temperature: float):
    """Keras loss over y_true = [one-hot labels | teacher soft targets] and student logits."""
    import tensorflow as tf

    def loss(y_true, student_logits):
        hard, soft = y_true[:, :num_classes], y_true[:, num_classes:]
        ce = tf.nn.softmax_cross_entropy_with_logits(hard, student_logits)
        log_student = tf.nn.log_softmax(student_logits / temperature)
        kl = tf.reduce_sum(soft * (tf.math.log(tf.maximum(soft, 1e-12)) - log_student), axis=-1)
        return alpha * ce + (1.0 - alpha) * temperature**2 * kl

    return loss


def _with_softmax(logit_model, data: Dataset, width: int):
    """The deployable student: same layers, softmax on the classifier."""
    model = build_default_model(data.input_shape, data.num_classes, width)
    model.set_weights(logit_model.get_weights())
    return model


def distill(teacher, data: Dataset, params: DistillParams, budget: TrainConfig, seed: int,
            name: str = "student_distilled") -> Candidate:
    import tf_keras

    started = time.perf_counter()
    classes = data.num_classes
    teacher_probs = teacher.predict(data.x_train, batch_size=256, verbose=0)
    if not looks_like_probabilities(teacher_probs):  # a teacher that emits logits
        shifted = np.exp(teacher_probs - teacher_probs.max(axis=-1, keepdims=True))
        teacher_probs = shifted / shifted.sum(axis=-1, keepdims=True)
    targets = np.concatenate(
        [np.eye(classes, dtype=np.float32)[data.y_train], soft_targets(teacher_probs, params.temperature)], axis=1
    )
    seed_everything(seed)  # same initial student weights as the scratch run
    student = build_default_model(data.input_shape, classes, params.student_width, logits=True)
    student.compile(
        optimizer=tf_keras.optimizers.Adam(budget.learning_rate),
        loss=distillation_loss(classes, params.alpha, params.temperature),
    )
    student.fit(data.x_train, targets, epochs=budget.epochs, batch_size=budget.batch_size, verbose=0)
    recorded = dict(asdict(params), epochs=budget.epochs, learning_rate=budget.learning_rate)
    return Candidate(name, "distill", recorded, _with_softmax(student, data, params.student_width),
                     ConvertOptions(Quantization.INT8), train_seconds=time.perf_counter() - started)


def scratch_student(data: Dataset, params: DistillParams, budget: TrainConfig, seed: int,
                    name: str = "student_scratch") -> Candidate:
    """The distillation student's architecture, initial weights and budget, hard labels only."""
    started = time.perf_counter()
    seed_everything(seed)
    student = build_default_model(data.input_shape, data.num_classes, params.student_width)
    train(student, data, budget)
    recorded = {"student_width": params.student_width, "epochs": budget.epochs,
                "learning_rate": budget.learning_rate}
    return Candidate(name, "scratch_student", recorded, student, ConvertOptions(Quantization.INT8),
                     train_seconds=time.perf_counter() - started)
