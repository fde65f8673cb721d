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

#include "th_dsp.h"
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
 * half step k + 0.5. The product is taken times 2^12 (inv_q12: scaling by a power of two is exact)
 * and truncated by one VCVT, so the rest is integer work on q (Q12). Round half away from zero is
 * (q + 2048 + [q < 0 ? -1 : 0]) >> 12, arithmetic: for q < 0 that is floor((q + 2047) / 4096) =
 * -floor((|q| + 2048) / 4096). |q|'s fraction bits F place the quotient in [F, F + 1) / 4096, so one
 * within 2^-13 of a half step has F in 2047-2048; q & 4095 is F, or 4096 - F below 0, and 2045-2051
 * covers F in 2045-2050 both ways: those (and any |q| of 512 or more, which clamps whatever its
 * rounding, a scale whose reciprocal overflows, or NaN) take the division. VMUL is 1 cycle against
 * VDIV's 14 (Cortex-M4 TRM, FPU instruction timings), and the integer tail avoids the float
 * compares' VMRS: ~41 -> ~26 -> ~22 estimated cycles an element on VWW's 27,648 float inputs. */
void th_quantize_f32_s8(const float *input, int8_t *output, int32_t size, float scale, int32_t zero_point) {
  const float inv_q12 = (1.0f / scale) * 4096.0f;
  if (!(inv_q12 < 3.0e38f && inv_q12 > -3.0e38f)) { /* a reciprocal that overflows: divide */
    for (int32_t i = 0; i < size; ++i)
      output[i] = (int8_t)th_ssat8(round_half_away(input[i] / scale) + zero_point);
    return;
  }
#pragma GCC unroll 2 /* one loop test per two elements */
  for (int32_t i = 0; i < size; ++i) {
    /* toward zero (VCVT: saturates on overflow, 0 for NaN; the range test below sends both, and
     * whatever a host's conversion gives them, to the division) */
    const int32_t q = (int32_t)(input[i] * inv_q12);
    const int32_t r = (uint32_t)q + (512u << 12) < (1024u << 12) && ((uint32_t)q & 4095u) - 2045u > 6u
                          ? (q + 2048 + (q >> 31)) >> 12
                          : round_half_away(input[i] / scale);
    output[i] = (int8_t)th_ssat8(r + zero_point);
  }
}

void th_dequantize_s8_f32(const int8_t *input, float *output, int32_t size, float scale, int32_t zero_point) {
  for (int32_t i = 0; i < size; ++i) output[i] = scale * (float)(input[i] - zero_point);
}
