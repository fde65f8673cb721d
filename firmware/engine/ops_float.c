/* Ops with float arithmetic: the float32 model edges (QUANTIZE, DEQUANTIZE). Contraction into
 * fused multiply-adds is off for this file: TFLM rounds each operation separately.
 *
 * Both loops avoid libm and double precision (soft-float on Cortex-M4), bit-exact with TFLM:
 * - QUANTIZE is TFLM's round(x / scale) + zero point, clamped. x / scale is a VMUL by 1 / scale
 *   where that provably rounds alike, else one VDIV (th_quantize_f32_s8); round()
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

/* x * (1 / scale) in place of x / scale: the product is within 3 ulp of the correctly rounded
 * quotient (1 / scale and the product each round once, 0.5 ulp, plus the quotient's own rounding),
 * under 2^-13 for |q| < 512, so both round to the same integer unless they lie within that of a
 * half step k + 0.5, where 2 * fraction is within 2^-12 of +-1: those elements (and any quotient
 * of 512 or more, which clamps whatever its rounding, or a scale whose reciprocal overflows) take
 * the division. VMUL is 1 cycle against VDIV's 14 (Cortex-M4 TRM, FPU instruction timings):
 * ~41 -> ~26 estimated cycles an element on VWW's 27,648 float inputs. */
#define NEAR_HALF (1.0f / 4096.0f)

void th_quantize_f32_s8(const float *input, int8_t *output, int32_t size, float scale, int32_t zero_point) {
  const float inv = 1.0f / scale;
  const int fast = inv < 3.0e38f && inv > -3.0e38f; /* finite, not a division by +-0 */
  for (int32_t i = 0; i < size; ++i) {
    const float y = input[i] * inv;
    const int32_t t = (int32_t)y; /* toward zero (VCVT: saturates on overflow, 0 for NaN) */
    const float f2 = 2.0f * (y - (float)t); /* exact when |y| < 512, in (-2, 2); NaN stays NaN */
    /* |y| < 512 tested on t (one integer compare); NaN fails the float test */
    const int32_t r = fast && (uint32_t)(t + 511) < 1023u && fabsf(fabsf(f2) - 1.0f) > NEAR_HALF
                          ? t + (int32_t)f2
                          : round_half_away(input[i] / scale);
    output[i] = (int8_t)th_clamp(r + zero_point, -128, 127);
  }
}

void th_dequantize_s8_f32(const int8_t *input, float *output, int32_t size, float scale, int32_t zero_point) {
  for (int32_t i = 0; i < size; ++i) output[i] = scale * (float)(input[i] - zero_point);
}
