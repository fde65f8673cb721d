/* Ops with float arithmetic: the float32 model edges (QUANTIZE, DEQUANTIZE). Contraction into
 * fused multiply-adds is off for this file: TFLM rounds each operation separately.
 *
 * Both loops avoid libm and double precision (soft-float on Cortex-M4), bit-exact with TFLM:
 * - QUANTIZE is TFLM's round(x / scale) + zero point, clamped. x / scale is one VDIV; round()
 *   (half away from zero) is a truncating VCVT plus a test of the exact fractional part instead of
 *   a libm roundf call (~33 -> ~13 emulator instructions per element on VWW's input), the
 *   half step taken as the truncated 2 * fraction (no compares).
 * - DEQUANTIZE is TFLM's (float)((double)scale * (q - zero_point)). The double product of a float
 *   (24-bit significand) and an integer of at most 9 bits is exact, so rounding it to float once
 *   equals the single float multiply scale * (float)(q - zero_point), which IEEE rounds correctly
 *   (~106 -> ~7 emulator instructions per element on AD's output). */
#pragma GCC optimize("fp-contract=off")
#include <math.h>

#include "th_fixedpoint.h"
#include "th_ops.h"

/* roundf(x) as an int32 for |x| < 2^31 - 128 (any value that can land in int8 after a zero point);
 * larger magnitudes and NaN take libm's roundf, as before. */
static inline int32_t round_half_away(float x) {
  if (!(x < 2147483520.0f && x > -2147483520.0f)) return (int32_t)roundf(x);
  const int32_t t = (int32_t)x;     /* toward zero (VCVT) */
  const float frac = x - (float)t;  /* exact: |x| < 2^23 keeps the fraction, larger x is integral */
  /* 2 * frac is exact and in (-2, 2): truncated it is +1 for frac >= 0.5, -1 for frac <= -0.5, else
   * 0, the rounding step without compares or branches (VADD + VCVT + ADD). */
  return t + (int32_t)(frac + frac);
}

void th_quantize_f32_s8(const float *input, int8_t *output, int32_t size, float scale, int32_t zero_point) {
  for (int32_t i = 0; i < size; ++i) {
    const int32_t q = round_half_away(input[i] / scale) + zero_point;
    output[i] = (int8_t)th_clamp(q, -128, 127);
  }
}

void th_dequantize_s8_f32(const int8_t *input, float *output, int32_t size, float scale, int32_t zero_point) {
  for (int32_t i = 0; i < size; ++i) output[i] = scale * (float)(input[i] - zero_point);
}
