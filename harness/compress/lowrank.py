"""Low-rank factorization: W (in×out) ≈ A (in×r) · B (r×out) from a truncated SVD.

Dense layers and 1×1 convolutions become two thinner layers (the first linear and bias-free);
a layer is factored only where r·(in+out) < in·out, i.e. where it saves weights and MACs.
"""

from __future__ import annotations

import numpy as np

from .convert import ConvertOptions, Quantization
from .data import Dataset
from .models import fit
from .params import FineTune, LowRankParams, UnsupportedModelError
from .surgery import LayerSpec, build_chain, chain_layers, spec_of
from .variant import Candidate


def svd_factors(matrix: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray, float]:
    """A, B with A @ B the best rank-`rank` approximation, and the share of energy kept."""
    u, s, vt = np.linalg.svd(matrix, full_matrices=False)
    root = np.sqrt(s[:rank])
    energy = float(np.sum(s[:rank] ** 2) / np.sum(s**2)) if np.any(s) else 1.0
    return u[:, :rank] * root, root[:, None] * vt[:rank], energy


def _factorable(layer) -> bool:
    kind = type(layer).__name__
    if kind == "Dense":
        return True
    return kind == "Conv2D" and tuple(layer.kernel_size) == (1, 1) and tuple(layer.dilation_rate) == (1, 1)


def factorize(model, rank: int) -> tuple[object, dict]:
    """Rebuild `model` with each worthwhile Dense / 1×1 Conv2D split in two; returns notes per layer."""
    specs: list[LayerSpec] = []
    factored: dict[str, dict] = {}
    for layer in chain_layers(model):
        kernel = np.asarray(layer.get_weights()[0]) if _factorable(layer) else None
        if kernel is None or rank * sum(kernel.shape[-2:]) >= kernel.shape[-2] * kernel.shape[-1]:
            specs.append(spec_of(layer))
            continue
        a, b, energy = svd_factors(kernel.reshape(kernel.shape[-2:]), rank)
        bias = layer.get_weights()[1:]
        config = layer.get_config()
        name = config["name"]
        size_key = "filters" if type(layer).__name__ == "Conv2D" else "units"
        first = dict(config, name=f"{name}_lr_in", activation="linear", use_bias=False, **{size_key: rank})
        second = dict(config, name=f"{name}_lr_out")
        if size_key == "filters":
            second.update(strides=(1, 1), padding="valid")
            a, b = a.reshape(1, 1, *a.shape), b.reshape(1, 1, *b.shape)
        kind = type(layer).__name__
        specs += [LayerSpec(kind, first, [a]), LayerSpec(kind, second, [b, *bias])]
        factored[name] = {"shape": list(kernel.shape[-2:]), "rank": rank, "energy_kept": round(energy, 4)}
    if not factored:
        raise UnsupportedModelError(f"rank {rank} saves nothing on any Dense / 1×1 conv layer of this model")
    return build_chain(tuple(model.input_shape[1:]), specs, f"{model.name}_lowrank"), factored


def low_rank(base, data: Dataset, params: LowRankParams, tune: FineTune, name: str | None = None) -> Candidate:
    """SVD-factor the Dense and 1×1 conv kernels to `rank`, fine-tune, convert to int8."""
    model, factored = factorize(base, params.rank)
    fit(model, data, tune.epochs, tune.batch_size, tune.learning_rate)
    return Candidate(
        name or f"low_rank_r{params.rank}", "low_rank", {"rank": params.rank, "epochs": tune.epochs},
        model, ConvertOptions(Quantization.INT8), notes={"factored": factored},
    )
