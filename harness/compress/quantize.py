"""Post-training quantization (int8, float16, dynamic range) and quantization-aware training.

PTQ variants share the base model, which the run saves once as `base.keras`.
"""

from __future__ import annotations

from .convert import ConvertOptions, Quantization
from .data import Dataset
from .models import clone, fit
from .params import FineTune
from .variant import Candidate


def ptq_int8(base, int8_io: bool = True, name: str = "int8_ptq") -> Candidate:
    """Full-integer int8, per-channel weights, calibrated on training samples."""
    return Candidate(
        name, "ptq_int8", {"io": "int8" if int8_io else "float", "per_channel": True},
        base, ConvertOptions(Quantization.INT8, int8_io=int8_io), save_keras=False,
    )


def ptq_int16x8(base, int_io: bool = True, name: str = "int16x8_ptq") -> Candidate:
    """int16 activations with int8 weights (TFLite's experimental 16x8 mode), calibrated like int8.
    TFLM has int16 kernels for these ops; tinyhil's builtin engine is int8 only and refuses it."""
    return Candidate(
        name, "ptq_int16x8", {"io": "int16" if int_io else "float", "per_channel": True},
        base, ConvertOptions(Quantization.INT16X8, int8_io=int_io), save_keras=False,
    )


def ptq_float16(base, name: str = "float16") -> Candidate:
    return Candidate(name, "ptq_float16", {}, base, ConvertOptions(Quantization.FLOAT16), save_keras=False)


def ptq_dynamic(base, name: str = "dynamic_range") -> Candidate:
    return Candidate(name, "ptq_dynamic", {}, base, ConvertOptions(Quantization.DYNAMIC), save_keras=False)


def float_baseline(base, name: str = "baseline_float") -> Candidate:
    return Candidate(name, "float", {}, base, ConvertOptions(Quantization.FLOAT32), save_keras=False)


def qat(base, data: Dataset, tune: FineTune, int8_io: bool = True, name: str = "qat_int8") -> Candidate:
    """tfmot quantize_model (fake-quant in training), fine-tune, convert to int8."""
    import tensorflow_model_optimization as tfmot

    model = tfmot.quantization.keras.quantize_model(clone(base))
    fit(model, data, tune.epochs, tune.batch_size, tune.learning_rate)
    return Candidate(
        name, "qat", {"epochs": tune.epochs, "learning_rate": tune.learning_rate,
                      "io": "int8" if int8_io else "float"},
        model, ConvertOptions(Quantization.INT8, int8_io=int8_io), save_keras=False,
    )
