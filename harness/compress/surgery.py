"""Rebuilding a tf_keras layer chain with changed layers (channel pruning, low-rank factorization)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import UnsupportedModelError


@dataclass(frozen=True)
class LayerSpec:
    """A layer to create: its tf_keras class name, config and weights."""

    class_name: str
    config: dict
    weights: list[np.ndarray]


def chain_layers(model) -> list:
    """The model's layers in order, if each takes the previous one's output (no branches)."""
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    previous = model.inputs[0] if len(model.inputs) == 1 else None
    for layer in layers:
        nodes = layer._inbound_nodes
        inputs = nodes[0].input_tensors if len(nodes) == 1 else None
        inputs = _as_list(inputs) if inputs is not None else []
        if previous is None or len(inputs) != 1 or inputs[0] is not previous:
            raise UnsupportedModelError(
                f"layer {layer.name!r}: only single-input layer chains (Sequential-like models) can be "
                "rebuilt for this technique"
            )
        previous = layer.output
    return layers


def _as_list(tensors) -> list:
    return list(tensors) if isinstance(tensors, list | tuple) else [tensors]


def spec_of(layer, **changes) -> LayerSpec:
    config = dict(layer.get_config(), **changes)
    return LayerSpec(type(layer).__name__, config, [np.asarray(w) for w in layer.get_weights()])


def build_chain(input_shape: tuple[int, ...], specs: list[LayerSpec], name: str):
    import tf_keras

    model = tf_keras.Sequential([tf_keras.layers.InputLayer(input_shape)], name=name)
    for spec in specs:
        layer = getattr(tf_keras.layers, spec.class_name).from_config(spec.config)
        model.add(layer)
        layer.set_weights(spec.weights)
    return model
