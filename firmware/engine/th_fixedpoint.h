/* Fixed-point arithmetic shared by the engine's kernels.
 * The rounding rules are those of the TFLite quantization spec (gemmlowp-style "double rounding":
 * a saturating rounding doubling high multiply, then a rounding right shift), so results match
 * TFLM's reference kernels bit for bit. Everything is static inline: the kernels' inner loops
 * call these per element. */
#ifndef TH_FIXEDPOINT_H
#define TH_FIXEDPOINT_H

#include <stdint.h>

/* (a * b * 2) >> 32 rounded to nearest, ties away from zero; INT32_MIN * INT32_MIN saturates.
 * gemmlowp adds a sign-dependent nudge and divides truncating toward zero; for negative products
 * that equals adding 2^30 and shifting right (flooring), so one formula serves both signs. */
static inline int32_t th_sat_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  return (int32_t)(((int64_t)a * (int64_t)b + (1 << 30)) >> 31);
}

/* x / 2^exponent rounded to nearest, ties away from zero (0 <= exponent <= 31). */
static inline int32_t th_rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  /* gemmlowp: remainder > mask/2 + (x < 0); the sign term moved left as x >> 31 (0 or -1) */
  return (x >> exponent) + (((x & mask) + (x >> 31)) > (mask >> 1) ? 1 : 0);
}

/* x * multiplier * 2^shift with multiplier a Q31 fraction; shift > 0 is a left shift. */
static inline int32_t th_mul_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  /* multiplier is never INT32_MIN (it is in [0, 2^31)), so no saturation case */
  const int32_t high = (int32_t)(((int64_t)(int32_t)((uint32_t)x << left) * multiplier + (1 << 30)) >> 31);
  return th_rounding_divide_by_pot(high, right);
}

static inline int32_t th_clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* Saturating x * 2^exponent for exponent > 0, rounding x / 2^-exponent for exponent < 0. */
static inline int32_t th_sat_rounding_mul_by_pot(int32_t x, int exponent) {
  if (exponent == 0) return x;
  if (exponent < 0) return th_rounding_divide_by_pot(x, -exponent);
  const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return (int32_t)((uint32_t)x << exponent);
}

/* (a + b) / 2 rounded half away from zero. */
static inline int32_t th_rounding_half_sum(int32_t a, int32_t b) {
  int64_t sum = (int64_t)a + (int64_t)b;
  return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

static inline int32_t th_wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t th_wrap_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

/* Fixed-point functions on raw int32 values. "Qk" below means k integer bits (31-k fraction bits). */
int32_t th_fx_exp_on_negative_values(int32_t a, int integer_bits); /* Qk in (<= 0) -> Q0 out */
int32_t th_fx_one_over_one_plus_x_for_x_in_0_1(int32_t a);       /* Q0 -> Q0 */
int32_t th_fx_logistic(int32_t a, int integer_bits);              /* Qk -> Q0 */
/* 1 / x for x a Qk positive value: returns the Q0 mantissa and the extra power of two. */
int32_t th_fx_reciprocal(int32_t x, int integer_bits, int *num_bits_over_unit);

#endif
