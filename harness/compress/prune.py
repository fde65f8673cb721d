"""Unstructured magnitude pruning (polynomial schedule), 2:4 sparsity, pruning-preserving QAT.

The .tflite of a pruned model keeps its dense size (TFLM has no sparse kernels; the converter's
EXPERIMENTAL_SPARSITY inserts DENSIFY, which TFLM rejects), so only the gzip size and the measured
nonzero fraction show the effect.
"""

from __future__ import annotations

from dataclasses import asdict

from .convert import ConvertOptions, Quantization
from .data import Dataset
from .models import clone, fit, steps_per_epoch
from .params import FineTune, PruneParams
from .variant import Candidate


def schedule_steps(params: PruneParams, total_steps: int) -> tuple[int, int, int]:
    """(begin, end, frequency) with `end - begin` a multiple of the frequency.

    tfmot updates the masks only on steps where `(step - begin) % frequency == 0`; if end_step is
    not one of them the final sparsity is never reached.
    """
    begin = params.begin_step
    end = params.end_step if params.end_step is not None else max(begin + 1, int(0.7 * total_steps))
    frequency = params.frequency or max(1, min(10, (end - begin) // 10))
    end = begin + max(1, (end - begin) // frequency) * frequency
    return begin, end, frequency


def _pruned_and_stripped(base, data: Dataset, tune: FineTune, schedule, m_by_n=None):
    import tensorflow_model_optimization as tfmot

    sparsity = tfmot.sparsity.keras
    extra = {"sparsity_m_by_n": m_by_n} if m_by_n else {}
    model = sparsity.prune_low_magnitude(clone(base), pruning_schedule=schedule, **extra)
    fit(model, data, tune.epochs, tune.batch_size, tune.learning_rate, [sparsity.UpdatePruningStep()])
    return sparsity.strip_pruning(model)


def magnitude_prune(base, data: Dataset, params: PruneParams, tune: FineTune, name: str | None = None,
                    int8: bool = True) -> Candidate:
    """Prune conv/dense kernels to `final_sparsity` along a PolynomialDecay schedule, fine-tune, strip."""
    import tensorflow_model_optimization as tfmot

    total = tune.epochs * steps_per_epoch(data, tune.batch_size)
    begin, end, frequency = schedule_steps(params, total)
    if end >= total:
        from .params import InvalidParameterError

        raise InvalidParameterError(f"end_step {end} is past the last fine-tune step ({total}): add epochs")
    schedule = tfmot.sparsity.keras.PolynomialDecay(
        params.initial_sparsity, params.final_sparsity, begin, end, frequency=frequency
    )
    model = _pruned_and_stripped(base, data, tune, schedule)
    recorded = dict(asdict(params), begin_step=begin, end_step=end, frequency=frequency,
                    epochs=tune.epochs, schedule="PolynomialDecay")
    name = name or f"pruned_{round(params.final_sparsity * 100)}"
    quantization = Quantization.INT8 if int8 else Quantization.FLOAT32
    return Candidate(name, "magnitude_prune", recorded, model, ConvertOptions(quantization))


def prune_2_4(base, data: Dataset, tune: FineTune, name: str = "sparse_2of4", int8: bool = True) -> Candidate:
    """2:4 structured sparsity: in every block of 4 input weights, 2 are zero (tfmot sparsity_m_by_n)."""
    import tensorflow_model_optimization as tfmot

    schedule = tfmot.sparsity.keras.ConstantSparsity(0.5, begin_step=0, frequency=10)
    model = _pruned_and_stripped(base, data, tune, schedule, m_by_n=(2, 4))
    quantization = Quantization.INT8 if int8 else Quantization.FLOAT32
    return Candidate(name, "sparsity_2_4", {"m": 2, "n": 4, "epochs": tune.epochs}, model,
                     ConvertOptions(quantization))


def prune_preserving_qat(pruned: Candidate, data: Dataset, tune: FineTune, name: str | None = None) -> Candidate:
    """QAT on a pruned model with tfmot's prune-preserve scheme, so the zeros survive fine-tuning."""
    import tensorflow_model_optimization as tfmot

    quant = tfmot.quantization.keras
    scheme = tfmot.experimental.combine.Default8BitPrunePreserveQuantizeScheme()
    annotated = quant.quantize_annotate_model(clone(pruned.model))
    model = quant.quantize_apply(annotated, scheme)
    fit(model, data, tune.epochs, tune.batch_size, tune.learning_rate)
    params = {"pruning": pruned.params, "qat_epochs": tune.epochs, "scheme": "Default8BitPrunePreserveQuantize"}
    return Candidate(name or f"{pruned.name}_qat", "prune_preserving_qat", params, model,
                     ConvertOptions(Quantization.INT8), save_keras=False)
