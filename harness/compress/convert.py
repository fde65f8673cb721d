"""Keras → .tflite in the flavours the suite compares, and host evaluation of the result."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from ._runtime import stdout_to_stderr
from .data import Dataset


class Quantization(enum.Enum):
    """What the converter does to the weights and activations."""

    FLOAT32 = "float32"
    INT8 = "int8"  # full integer, per-channel weights, calibrated on a representative set
    FLOAT16 = "float16"  # float16 weights, float compute
    DYNAMIC = "dynamic"  # int8 weights, float activations (dynamic-range)
    INT16X8 = "int16x8"  # int16 activations, int8 weights (the converter's 16x8 mode), calibrated


# TFLM cannot prepare these: kernels for dequantized float16 and hybrid ops are absent.
NOT_DEPLOYABLE = {
    Quantization.FLOAT16: "float16 weights need DEQUANTIZE of float16, which TFLM does not support",
    Quantization.DYNAMIC: "dynamic-range (hybrid) kernels are not in TFLM",
}


@dataclass(frozen=True)
class ConvertOptions:
    quantization: Quantization = Quantization.INT8
    int8_io: bool = True  # int8 input/output tensors (else float I/O around an int8 body)
    calibration_samples: int = 200


def to_tflite(model, data: Dataset, options: ConvertOptions) -> bytes:
    """Convert a tf_keras model with a fixed batch of 1 (plain RESHAPE for Flatten)."""
    import tensorflow as tf

    input_shape = (1, *model.input_shape[1:])
    signature = tf.TensorSpec(input_shape, tf.float32, name="input")
    function = tf.function(lambda x: model(x, training=False), input_signature=[signature])
    concrete = function.get_concrete_function()
    with stdout_to_stderr():
        converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], model)
        q = options.quantization
        if q is not Quantization.FLOAT32:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if q is Quantization.FLOAT16:
            converter.target_spec.supported_types = [tf.float16]
        if q in (Quantization.INT8, Quantization.INT16X8):
            calibration = data.calibration(options.calibration_samples)

            def representative():
                for sample in calibration:
                    yield [sample[np.newaxis].astype(np.float32)]

            converter.representative_dataset = representative
            sixteen = q is Quantization.INT16X8
            converter.target_spec.supported_ops = [
                tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 if sixteen
                else tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            if options.int8_io:  # integer I/O: int16 tensors for the 16x8 mode
                converter.inference_input_type = tf.int16 if sixteen else tf.int8
                converter.inference_output_type = tf.int16 if sixteen else tf.int8
        return converter.convert()


def tflite_accuracy(tflite_model: bytes, data: Dataset) -> float:
    """Top-1 accuracy with TensorFlow's host interpreter."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_content=tflite_model, num_threads=1)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    hits = 0
    for x, y in zip(data.x_test, data.y_test, strict=True):
        interpreter.set_tensor(inp["index"], _quantize_input(x, inp))
        interpreter.invoke()
        hits += int(np.argmax(interpreter.get_tensor(out["index"])[0]) == y)
    return hits / len(data.y_test)


def tflm_accuracy(tflite_model: bytes, data: Dataset) -> float:
    """Top-1 accuracy with the TFLM reference runtime (`tflite_micro`); raises if TFLM rejects it."""
    from tflite_micro import runtime

    with stdout_to_stderr():
        interpreter = runtime.Interpreter.from_bytes(tflite_model)
    inp = interpreter.get_input_details(0)
    hits = 0
    for x, y in zip(data.x_test, data.y_test, strict=True):
        interpreter.set_input(_quantize_input(x, inp), 0)
        interpreter.invoke()
        hits += int(np.argmax(interpreter.get_output(0)[0]) == y)
        interpreter.reset()
    return hits / len(data.y_test)


def _quantize_input(x: np.ndarray, details: dict) -> np.ndarray:
    dtype = details["dtype"]
    batch = x[np.newaxis]
    if dtype == np.float32:
        return batch.astype(np.float32)
    params = details.get("quantization_parameters") or {}
    scales = params.get("scales")
    zero_points = params.get("zero_points")
    if scales is not None and len(scales):
        scale, zero_point = float(scales[0]), int(zero_points[0])
    else:
        scale, zero_point = details["quantization"]
    info = np.iinfo(dtype)
    return np.clip(np.round(batch / scale) + zero_point, info.min, info.max).astype(dtype)
