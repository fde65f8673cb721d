"""Tiny Keras models, one per op and option, converted to full-integer int8 .tflite.

Each builder returns a Keras model; `convert` quantizes it with a random representative set.
Inputs have a fixed batch of 1 (a None batch makes Keras 3 emit shape ops, which one model keeps
on purpose to test folding).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _keras():
    import keras

    return keras


def _model(shape, body, batch=1):
    keras = _keras()
    x = keras.Input(shape=shape, batch_size=batch)
    return keras.Model(x, body(keras, x))


def _conv_same_relu(k, x):
    return k.layers.Conv2D(6, (5, 3), padding="same", activation="relu")(x)


def _conv_valid_stride2_relu6(k, x):
    return k.layers.Conv2D(8, 3, strides=2, padding="valid", activation="relu6")(x)


def _conv_same_stride2(k, x):
    return k.layers.Conv2D(5, 3, strides=(2, 1), padding="same")(x)


def _depthwise_m1(k, x):
    return k.layers.DepthwiseConv2D(3, padding="same", activation="relu")(x)


def _depthwise_m2_stride2(k, x):
    return k.layers.DepthwiseConv2D((3, 2), strides=2, depth_multiplier=2, padding="valid")(x)


def _fc_softmax(k, x):
    y = k.layers.Conv2D(4, 3, activation="relu")(x)
    y = k.layers.MaxPooling2D(2)(y)
    y = k.layers.Flatten()(y)
    y = k.layers.Dense(16, activation="relu")(y)
    return k.layers.Dense(10, activation="softmax")(y)


def _pools(k, x):
    a = k.layers.AveragePooling2D(3, strides=2, padding="same")(x)
    a = k.layers.MaxPooling2D(2, strides=1, padding="same")(a)
    return k.layers.AveragePooling2D(2, padding="valid")(a)


def _add_mul(k, x):
    a = k.layers.Conv2D(4, 1)(x)
    b = k.layers.Conv2D(4, 3, padding="same")(x)
    s = k.layers.Add()([a, b])
    s = k.layers.Activation("relu")(s)
    m = k.layers.Multiply()([s, b])
    gate = k.layers.Activation("sigmoid")(k.layers.GlobalAveragePooling2D(keepdims=True)(m))
    m = k.layers.Multiply()([m, gate])  # squeeze-excite style: broadcast over H and W
    return k.layers.Lambda(lambda t: t + k.ops.convert_to_tensor(np.linspace(-1, 1, 4, dtype="float32")))(m)


def _mean(k, x):
    y = k.layers.Conv2D(6, 3)(x)
    a = k.layers.GlobalAveragePooling2D()(y)
    b = k.layers.Lambda(lambda t: k.ops.mean(t, axis=[1, 2], keepdims=True))(k.layers.Conv2D(6, 1)(y))
    b = k.layers.Reshape((6,))(b)
    return k.layers.Concatenate()([a, b])


def _pad_concat(k, x):
    a = k.layers.ZeroPadding2D(((1, 2), (0, 1)))(x)
    a = k.layers.Conv2D(3, 3)(a)
    b = k.layers.Conv2D(2, (1, 2))(k.layers.ZeroPadding2D(((1, 0), (0, 0)))(x))
    return k.layers.Concatenate(axis=-1)([a, b])


def _activations(k, x):
    y = k.layers.Conv2D(4, 3)(x)
    z = k.layers.Conv2D(4, 3)(x)
    c = k.layers.Concatenate()([y, z])
    r = k.layers.ReLU()(c)
    r6 = k.layers.Lambda(lambda t: k.ops.relu6(t))(c)
    s = k.layers.Activation("sigmoid")(c)
    return k.layers.Concatenate()([r, r6, s])


def _flatten_dynamic_batch(k, x):
    y = k.layers.Conv2D(3, 3)(x)
    y = k.layers.Flatten()(y)
    return k.layers.Dense(5)(y)


def _chain(k, x):
    """Layers whose inputs die at them: the planner lays outputs over inputs."""
    y = k.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    y = k.layers.DepthwiseConv2D(3, padding="same")(y)
    y = k.layers.Conv2D(6, 1, strides=2)(y)
    y = k.layers.MaxPooling2D(2, strides=1, padding="same")(y)
    y = k.layers.Lambda(lambda t: k.ops.pad(t, [[0, 0], [1, 1], [0, 0], [0, 0]], constant_values=0.3))(y)
    y = k.layers.Concatenate(axis=1)([y, k.layers.Conv2D(6, 1)(y)])
    return k.layers.Activation("sigmoid")(y)


def _tanh(k, x):
    return k.layers.Activation("tanh")(k.layers.Conv2D(2, 3)(x))


# name -> (input shape, builder, integer io (True: int8, "uint8") or float io (False), batch)
MODELS = {
    "conv_same_relu": ((8, 7, 4), _conv_same_relu, True, 1),
    "conv_valid_stride2_relu6": ((9, 9, 3), _conv_valid_stride2_relu6, True, 1),
    "conv_same_stride2": ((7, 6, 3), _conv_same_stride2, True, 1),
    "depthwise_m1": ((6, 5, 8), _depthwise_m1, True, 1),
    "depthwise_m2_stride2": ((9, 8, 3), _depthwise_m2_stride2, True, 1),
    "fc_softmax": ((8, 8, 1), _fc_softmax, True, 1),
    "pools": ((9, 11, 3), _pools, True, 1),
    "add_mul": ((6, 6, 3), _add_mul, True, 1),
    "mean": ((7, 6, 3), _mean, True, 1),
    "pad_concat": ((6, 5, 2), _pad_concat, True, 1),
    "activations": ((6, 6, 2), _activations, True, 1),
    "float_io": ((8, 7, 4), _conv_same_relu, False, 1),
    "flatten_dynamic_batch": ((6, 6, 2), _flatten_dynamic_batch, True, None),
    "chain": ((10, 9, 3), _chain, True, 1),
    "uint8_io": ((8, 8, 1), _fc_softmax, "uint8", 1),
    "tanh": ((6, 6, 2), _tanh, True, 1),
}


def convert(name: str, out_dir: Path, seed: int = 0) -> Path:
    """Build, quantize (int8, random representative data) and write MODELS[name]; returns the path."""
    import tensorflow as tf

    from harness.reference.capture import capture_fds

    shape, body, int8_io, batch = MODELS[name]
    _keras().utils.set_random_seed(seed)
    model = _model(shape, body, batch)
    rng = np.random.default_rng(seed)
    samples = [rng.normal(0, 1, size=(1, *shape)).astype(np.float32) for _ in range(32)]

    def representative():
        for s in samples:
            yield [s]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if int8_io:
        io_type = tf.uint8 if int8_io == "uint8" else tf.int8
        converter.inference_input_type = io_type
        converter.inference_output_type = io_type
    with capture_fds(1, 2):
        data = converter.convert()
    path = Path(out_dir) / f"{name}.tflite"
    path.write_bytes(data)
    return path
