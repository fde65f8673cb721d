"""Structured pruning: drop whole conv filters / dense units with the smallest L1 norm.

Unlike unstructured sparsity, the rebuilt model is really smaller: fewer filters in each layer and
fewer input channels in the next, so the .tflite, the flash and the MACs all shrink.
"""

from __future__ import annotations

import numpy as np

from .convert import ConvertOptions, Quantization
from .data import Dataset
from .models import fit
from .params import ChannelPruneParams, FineTune, UnsupportedModelError
from .surgery import LayerSpec, build_chain, chain_layers, spec_of
from .variant import Candidate

# Layers that carry channels through unchanged and own no per-channel weights.
_PASS_THROUGH = {
    "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
    "Activation", "ReLU", "Dropout", "Softmax", "ZeroPadding2D", "LeakyReLU",
}


def l1_keep(kernel: np.ndarray, fraction: float) -> np.ndarray:
    """Sorted indices of the output channels (last axis) to keep: the largest L1 norms."""
    norms = np.abs(kernel).reshape(-1, kernel.shape[-1]).sum(axis=0)
    keep = max(1, int(round(kernel.shape[-1] * (1.0 - fraction))))
    return np.sort(np.argsort(-norms, kind="stable")[:keep])


def prune_channels(model, fraction: float) -> tuple[object, dict]:
    """Rebuild `model` with `fraction` of the filters/units of every hidden conv/dense layer removed."""
    layers = chain_layers(model)
    weighted = [i for i, layer in enumerate(layers) if type(layer).__name__ in ("Conv2D", "Dense")]
    if len(weighted) < 2:
        raise UnsupportedModelError("channel pruning needs at least one hidden Conv2D/Dense layer")
    last = weighted[-1]  # the classifier keeps all its outputs
    kept = None  # indices of the current tensor's channels that survive; None = all
    specs: list[LayerSpec] = []
    widths: dict[str, str] = {}
    for i, layer in enumerate(layers):
        kind = type(layer).__name__
        weights = [np.asarray(w) for w in layer.get_weights()]
        if kind in ("Conv2D", "Dense"):
            kernel = weights[0] if kept is None else np.take(weights[0], kept, axis=-2)
            out = np.arange(kernel.shape[-1]) if i == last else l1_keep(kernel, fraction)
            new = [kernel[..., out]] + [b[out] for b in weights[1:]]
            size_key = "filters" if kind == "Conv2D" else "units"
            specs.append(LayerSpec(kind, dict(layer.get_config(), **{size_key: len(out)}), new))
            widths[layer.name] = f"{weights[0].shape[-1]}→{len(out)}"
            kept = None if i == last else out
        elif kind == "DepthwiseConv2D" and layer.get_config().get("depth_multiplier", 1) == 1:
            new = weights if kept is None else [np.take(weights[0], kept, axis=-2)] + [b[kept] for b in weights[1:]]
            specs.append(LayerSpec(kind, layer.get_config(), new))
        elif kind == "BatchNormalization":
            specs.append(LayerSpec(kind, layer.get_config(), weights if kept is None else [w[kept] for w in weights]))
        elif kind == "Flatten":
            if kept is not None:  # channels-last flatten: position-major, channel-minor
                positions, channels = int(np.prod(layer.input_shape[1:-1])), layer.input_shape[-1]
                kept = (np.arange(positions)[:, None] * channels + kept[None, :]).reshape(-1)
            specs.append(spec_of(layer))
        elif kind in _PASS_THROUGH:
            specs.append(spec_of(layer))
        else:
            raise UnsupportedModelError(f"channel pruning does not know how to slice layer {layer.name!r} ({kind})")
    smaller = build_chain(tuple(model.input_shape[1:]), specs, f"{model.name}_chpruned")
    return smaller, widths


def channel_prune(base, data: Dataset, params: ChannelPruneParams, tune: FineTune,
                  name: str | None = None) -> Candidate:
    """L1 filter pruning → rebuilt smaller model → fine-tune → int8."""
    model, widths = prune_channels(base, params.fraction)
    fit(model, data, tune.epochs, tune.batch_size, tune.learning_rate)
    return Candidate(
        name or f"channel_pruned_{round(params.fraction * 100)}", "channel_prune",
        {"fraction": params.fraction, "criterion": "L1", "epochs": tune.epochs},
        model, ConvertOptions(Quantization.INT8), notes={"widths": widths},
    )
