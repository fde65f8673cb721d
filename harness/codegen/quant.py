"""Quantization constants computed at generation time, exactly as TFLM computes them in Prepare.

TFLM stores scales as float32 and does some steps in float32 and some in double; each helper
says which, because a different rounding path changes multipliers by one unit and outputs by
one LSB. Scales arrive as float64 holding float32 values (the flatbuffer's), so `np.float32(s)`
is exact.
"""

from __future__ import annotations

import math

import numpy as np

INT8_MIN, INT8_MAX = -128, 127


def round_half_away(x: float) -> int:
    """std::round / roundf: halves go away from zero."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """tflite::QuantizeMultiplier: real = m * 2^(shift - 31) with m a Q31 int in [2^30, 2^31)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def quantize_f32(value: float, scale: float, zero_point: int) -> int:
    """zero_point + round(value / scale), the division done in float32 (TFLM's lambda)."""
    return int(zero_point) + round_half_away(float(np.float32(value) / np.float32(scale)))


def activation_range(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for an int8 output."""
    if activation in ("NONE", None):
        return INT8_MIN, INT8_MAX
    if activation == "RELU":
        return max(INT8_MIN, quantize_f32(0.0, scale, zero_point)), INT8_MAX
    if activation == "RELU6":
        return (max(INT8_MIN, quantize_f32(0.0, scale, zero_point)),
                min(INT8_MAX, quantize_f32(6.0, scale, zero_point)))
    if activation == "RELU_N1_TO_1":
        return (max(INT8_MIN, quantize_f32(-1.0, scale, zero_point)),
                min(INT8_MAX, quantize_f32(1.0, scale, zero_point)))
    raise ValueError(f"fused activation {activation}")


def per_channel_multipliers(input_scale: float, filter_scales: np.ndarray, output_scale: float,
                            channels: int) -> tuple[list[int], list[int]]:
    """Conv / depthwise / per-channel FC: input_scale * filter_scale / output_scale in double."""
    scales = np.broadcast_to(np.asarray(filter_scales, np.float64), (channels,)) if filter_scales.size == 1 \
        else np.asarray(filter_scales, np.float64)
    pairs = [quantize_multiplier(float(input_scale) * float(s) / float(output_scale)) for s in scales]
    return [m for m, _ in pairs], [s for _, s in pairs]


def per_tensor_conv_multiplier(input_scale: float, filter_scale: float, output_scale: float) -> tuple[int, int]:
    """GetQuantizedConvolutionMultipler (per-tensor FC): the input*filter product is float32."""
    product = float(np.float32(input_scale) * np.float32(filter_scale))
    return quantize_multiplier(product / float(output_scale))


def calculate_input_radius(integer_bits: int, left_shift: int, total_signed_bits: int = 31) -> int:
    value = 1.0 * ((1 << integer_bits) - 1) * (1 << (total_signed_bits - integer_bits)) / (1 << left_shift)
    return int(math.floor(value))


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """PreprocessSoftmaxScaling with 5 integer bits: (multiplier, left shift, diff_min)."""
    real = min(float(beta) * float(input_scale) * (1 << 26), (1 << 31) - 1.0)
    multiplier, left_shift = quantize_multiplier(real)
    diff_min = -calculate_input_radius(5, left_shift)
    return multiplier, left_shift, diff_min


def logistic_params(input_scale: float) -> tuple[int, int, int]:
    """LOGISTIC int8 prepare: (multiplier, left shift, input range radius); no 2^31 fix-up in TFLM."""
    q, left_shift = math.frexp(float(input_scale) * (1 << 27))
    multiplier = round_half_away(q * (1 << 31))
    return multiplier, left_shift, calculate_input_radius(4, left_shift)


def _wrap32(x: int) -> int:
    return (x + (1 << 31)) % (1 << 32) - (1 << 31)


def mul_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    """TFLM's MultiplyByQuantizedMultiplier on int32 (double rounding), in Python integers."""
    x = _wrap32(x << max(shift, 0))
    if x == multiplier == -(1 << 31):
        high = (1 << 31) - 1
    else:
        ab = x * multiplier
        nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
        high = _trunc_div(ab + nudge, 1 << 31)  # C's division truncates toward zero
    right = max(-shift, 0)
    mask = (1 << right) - 1
    remainder = high & mask
    threshold = (mask >> 1) + (1 if high < 0 else 0)
    return (high >> right) + (1 if remainder > threshold else 0)


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // b
    return q if a >= 0 else -q


def add_params(scale1: float, scale2: float, scale_out: float, zp1: int, zp2: int) -> dict:
    """ADD int8 prepare (left_shift 20). Each input's rescale depends on its int8 value only, so it
    becomes a 256-entry table; the output multiplier stays a (multiplier, shift) pair."""
    twice_max = 2.0 * float(max(np.float32(scale1), np.float32(scale2)))
    m1, s1 = quantize_multiplier(float(scale1) / twice_max)
    m2, s2 = quantize_multiplier(float(scale2) / twice_max)
    mo, so = quantize_multiplier(twice_max / ((1 << 20) * float(scale_out)))
    left = max(so, 0)  # the kernel shifts right only: a left shift of the sum moves into the tables
    luts = [[_wrap32(mul_by_quantized_multiplier((v - zp) << 20, m, s) << left)
             for v in range(INT8_MIN, INT8_MAX + 1)] for zp, m, s in ((zp1, m1, s1), (zp2, m2, s2))]
    return {"luts": luts, "output_multiplier": mo, "output_shift": min(so, 0)}


def mean_multiplier(real_scale: float, count: int) -> tuple[int, int]:
    """MEAN int8 (TFLM QuantizedMeanOrSum): fold 1/count into the input/output rescale."""
    multiplier, shift = quantize_multiplier(real_scale)
    extra = min(count.bit_length() - 1, 32, 31 + shift)
    return ((multiplier << extra) // count, shift - extra) if count > 0 else (multiplier, shift)


def float32_hex(value: float) -> str:
    """A C float literal that round-trips the float32 value exactly."""
    return f"{float(np.float32(value)).hex()}f"
