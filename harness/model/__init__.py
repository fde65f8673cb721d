"""Reading and analysing .tflite models: the `TfliteModel` every later stage consumes."""

from harness.model.analyze import FitCheck, LayerInfo, ModelInfo, analyze, estimate_fit
from harness.model.macs import layer_macs, total_macs
from harness.model.tflite_file import Operator, QuantParams, Tensor, TfliteModel, load_tflite

__all__ = [
    "FitCheck", "LayerInfo", "ModelInfo", "Operator", "QuantParams", "Tensor", "TfliteModel",
    "analyze", "estimate_fit", "layer_macs", "load_tflite", "total_macs",
]
