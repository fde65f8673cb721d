"""tf.lite (TensorFlow Lite) reference, for the model variants TFLM refuses.

Dynamic-range, float16 and sparse (DENSIFY) models run here but not in TFLM. Outputs are not
bit-exact with TFLM: FULLY_CONNECTED can differ by 1 LSB, which SOFTMAX can grow to several LSB;
for int8 models the TFLM runner stays the reference.
Same sample layout as `harness.reference.tflm.run_tflm`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from harness.errors import ModelFormatError
from harness.model import load_tflite
from harness.reference.capture import capture_fds
from harness.reference.tflm import _as_samples, _require_single_io, _sample_shape


def run_tflite(model_path: str | Path, inputs: np.ndarray) -> np.ndarray:
    """Run every sample of `inputs` through tf.lite.Interpreter (reference kernels, one thread)."""
    model = load_tflite(model_path)
    _require_single_io(model)
    in_tensor = model.tensors[model.inputs[0]]
    out_tensor = model.tensors[model.outputs[0]]
    samples = _as_samples(inputs, in_tensor.shape, in_tensor.dtype, model.path)
    tf = _import_tensorflow()
    with capture_fds(2) as log, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecation notice pointing to ai_edge_litert
        try:
            interpreter = tf.lite.Interpreter(
                model_path=str(model.path),
                num_threads=1,
                experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF,
            )
            interpreter.allocate_tensors()
            failure = None
        except (RuntimeError, ValueError) as e:
            failure = e
    if failure is not None:
        raise ModelFormatError(
            f"tf.lite cannot run {model.path.name}: {failure}\n{log.text(2).strip()}"
        ) from failure
    in_index = interpreter.get_input_details()[0]["index"]
    out_index = interpreter.get_output_details()[0]["index"]
    outputs = np.empty((len(samples), *_sample_shape(out_tensor.shape)), dtype=out_tensor.dtype)
    for i, sample in enumerate(samples):
        interpreter.set_tensor(in_index, sample.reshape(in_tensor.shape))
        interpreter.invoke()
        outputs[i] = interpreter.get_tensor(out_index).reshape(outputs.shape[1:])
    return outputs


def _import_tensorflow():
    # TensorFlow prints CUDA/absl noise on fd 2 at import; keep the user's terminal clean.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with capture_fds(2):
        import tensorflow as tf
    return tf
