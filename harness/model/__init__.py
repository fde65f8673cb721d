"""Reading and analysing .tflite models: the `TfliteModel` every later stage consumes."""

from harness.model.macs import layer_macs, total_macs
from harness.model.tflite_file import Operator, QuantParams, Tensor, TfliteModel, load_tflite

__all__ = ["Operator", "QuantParams", "Tensor", "TfliteModel", "layer_macs", "load_tflite", "total_macs"]
