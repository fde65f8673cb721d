"""Host references the device is checked against: TFLM (bit-exact reference) and tf.lite."""

from harness.reference.lite import run_tflite
from harness.reference.tflm import TflmArena, diagnose_tflm_refusal, run_tflm, tflm_arena

__all__ = ["TflmArena", "diagnose_tflm_refusal", "run_tflite", "run_tflm", "tflm_arena"]
