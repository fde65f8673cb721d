"""Reading and analysing .tflite models: the `TfliteModel` every later stage consumes."""

from harness.model.analyze import FitCheck, LayerInfo, ModelInfo, analyze, estimate_fit
from harness.model.macs import layer_macs, total_macs
from harness.model.tflite_file import Operator, QuantParams, Tensor, TfliteModel, load_tflite

__all__ = [
    "FitCheck", "LayerInfo", "ModelInfo", "analyze", "estimate_fit","Operator", "QuantParams", "Tensor", "TfliteModel", "layer_macs", "load_tflite", "total_macs"]
