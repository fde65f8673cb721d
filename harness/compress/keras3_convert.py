"""Rebuild a Keras 3 model in tf_keras (Keras 2) so tfmot can wrap it.

Each layer is re-created from its config in tf_keras and given the same weights; the graph is
replayed node by node, so Sequential and functional models (branches, Add, Concatenate) work.
Initializers, regularizers and constraints are dropped: the weights are copied, and Keras 3
serializes them in a form tf_keras does not read.
"""

from __future__ import annotations

import re

from harness.errors import ModelFormatError

_DROPPED_KEYS = {"optional", "quantization_config"}
_NOT_NEEDED = re.compile(r".*_(initializer|regularizer|constraint)$")


def to_tf_keras(source) -> tuple[object, list[str]]:
    """Return (tf_keras model, names of config keys that had to be dropped)."""
    import tf_keras

    dropped: set[str] = set()
    inputs = [tf_keras.Input(shape=t.shape[1:], dtype=t.dtype, name=_clean_name(t)) for t in source.inputs]
    tensors = {id(k3): k2 for k3, k2 in zip(source.inputs, inputs, strict=True)}
    for operation in source.layers:  # functional and built Sequential models list them in topological order
        if type(operation).__name__ == "InputLayer":
            continue
        layer = _rebuild_layer(operation, dropped)
        calls: dict[tuple[int, ...], list] = {}  # Keras 3 may record one call several times
        for node in operation._inbound_nodes:
            args = [tensors.get(id(t)) for t in node.input_tensors]
            if any(a is None for a in args):
                continue  # a node of another model that shares this layer
            key = tuple(id(a) for a in args)
            if key not in calls:
                outputs = layer(args[0] if len(args) == 1 else args)
                calls[key] = list(outputs) if isinstance(outputs, list | tuple) else [outputs]
            for k3, k2 in zip(node.output_tensors, calls[key], strict=True):
                tensors[id(k3)] = k2
        layer.set_weights([w.numpy() if hasattr(w, "numpy") else w for w in operation.get_weights()])
    try:
        outputs = [tensors[id(t)] for t in source.outputs]
    except KeyError as exc:
        raise ModelFormatError("Keras 3 model graph could not be replayed in tf_keras") from exc
    model = tf_keras.Model(inputs, outputs if len(outputs) > 1 else outputs[0], name=source.name)
    return model, sorted(dropped)


def _clean_name(tensor) -> str | None:
    name = getattr(tensor, "name", None)
    return name.split(":")[0] if name else None


def _rebuild_layer(layer, dropped: set[str]):
    import tf_keras

    class_name = type(layer).__name__
    cls = getattr(tf_keras.layers, class_name, None)
    if cls is None:
        raise ModelFormatError(f"Keras 3 layer {class_name!r} ({layer.name}) has no tf_keras counterpart")
    config = dict(layer.get_config())
    for key in list(config):
        if key in _DROPPED_KEYS or _NOT_NEEDED.match(key):
            if key in _DROPPED_KEYS and config[key] not in (None, False):
                dropped.add(key)
            config.pop(key)
    if isinstance(config.get("dtype"), dict):  # Keras 3 DTypePolicy → its name
        config["dtype"] = config["dtype"].get("config", {}).get("name", "float32")
    for _ in range(len(config) + 1):
        try:
            return cls.from_config(config)
        except TypeError as exc:
            unknown = re.findall(r"'(\w+)'", str(exc).split("arguments:")[-1])
            if "Unrecognized keyword arguments" not in str(exc) or not unknown:
                raise ModelFormatError(f"layer {layer.name} ({class_name}): {exc}") from exc
            for key in unknown:
                config.pop(key, None)
                dropped.add(key)
    raise ModelFormatError(f"layer {layer.name} ({class_name}) config could not be rebuilt in tf_keras")
