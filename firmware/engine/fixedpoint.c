/* Fixed-point exp / reciprocal / logistic used by SOFTMAX and LOGISTIC.
 * Same polynomial, constants and rounding steps as gemmlowp's fixedpoint.h (which TFLM uses), so
 * the int8 results are identical; written here as plain C on raw int32 values. */
#include "th_fixedpoint.h"

#define FX_MUL th_sat_rounding_doubling_high_mul

/* exp(a) for a in [-1/4, 0), a and the result in Q0. Taylor expansion around -1/8. */
static int32_t exp_on_interval_minus_quarter_to_0(int32_t a) {
  const int32_t exp_minus_one_eighth = 1895147668;
  const int32_t one_third = 715827883;
  const int32_t x = th_wrap_add(a, 1 << 28); /* a + 1/8 */
  const int32_t x2 = FX_MUL(x, x);
  const int32_t x3 = FX_MUL(x2, x);
  const int32_t x4 = FX_MUL(x2, x2);
  const int32_t x4_over_4 = th_rounding_divide_by_pot(x4, 2);
  const int32_t poly = th_rounding_divide_by_pot(
      th_wrap_add(FX_MUL(th_wrap_add(x4_over_4, x3), one_third), x2), 1);
  return th_wrap_add(exp_minus_one_eighth, FX_MUL(exp_minus_one_eighth, th_wrap_add(x, poly)));
}

int32_t th_fx_exp_on_negative_values(int32_t a, int integer_bits) {
  const int fractional_bits = 31 - integer_bits;
  const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
  const int32_t mask = one_quarter - 1;
  const int32_t a_mod_quarter_minus_quarter = th_wrap_sub(a & mask, one_quarter);
  int32_t result = exp_on_interval_minus_quarter_to_0(
      th_sat_rounding_mul_by_pot(a_mod_quarter_minus_quarter, integer_bits));
  const int32_t remainder = th_wrap_sub(a_mod_quarter_minus_quarter, a);
  /* exp(-2^k) for k = -2..4 in Q0: multiply in one factor per set bit of the remainder. */
  static const int32_t factors[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
  for (int k = -2; k <= 4; ++k) {
    if (integer_bits > k) {
      const int shift = fractional_bits + k;
      if (remainder & ((int32_t)1 << shift)) result = FX_MUL(result, factors[k + 2]);
    }
  }
  if (integer_bits > 5) {
    const int32_t clamp = -((int32_t)1 << (36 - integer_bits)); /* -32.0 */
    if (a < clamp) result = 0;
  }
  if (a == 0) result = INT32_MAX;
  return result;
}

int32_t th_fx_one_over_one_plus_x_for_x_in_0_1(int32_t a) {
  /* Newton-Raphson division in Q2 on the half denominator (1 + a) / 2. */
  const int32_t half_denominator = th_rounding_half_sum(a, INT32_MAX);
  const int32_t c48_over_17 = 1515870810;
  const int32_t c_neg32_over_17 = -1010580540;
  const int32_t one_q2 = (int32_t)1 << 29;
  int32_t x = th_wrap_add(c48_over_17, FX_MUL(half_denominator, c_neg32_over_17));
  for (int i = 0; i < 3; ++i) {
    const int32_t half_denominator_times_x = FX_MUL(half_denominator, x); /* Q2 */
    const int32_t one_minus = th_wrap_sub(one_q2, half_denominator_times_x);
    /* x * one_minus is Q4; rescale to Q2 */
    x = th_wrap_add(x, th_sat_rounding_mul_by_pot(FX_MUL(x, one_minus), 2));
  }
  /* x / 2 in Q1, rescaled to Q0 */
  return th_sat_rounding_mul_by_pot(x, 1);
}

int32_t th_fx_logistic(int32_t a, int integer_bits) {
  if (a == 0) return (int32_t)1 << 30;
  const int32_t abs_a = a > 0 ? a : (int32_t)(0u - (uint32_t)a);
  const int32_t neg = (int32_t)(0u - (uint32_t)abs_a);
  const int32_t positive = th_fx_one_over_one_plus_x_for_x_in_0_1(th_fx_exp_on_negative_values(neg, integer_bits));
  return a > 0 ? positive : th_wrap_sub(INT32_MAX, positive);
}

int32_t th_fx_reciprocal(int32_t x, int integer_bits, int *num_bits_over_unit) {
  const int headroom_plus_one = x == 0 ? 32 : __builtin_clz((uint32_t)x);
  *num_bits_over_unit = integer_bits - headroom_plus_one;
  const int32_t shifted_minus_one = (int32_t)(((uint32_t)x << headroom_plus_one) - (1u << 31));
  return th_fx_one_over_one_plus_x_for_x_in_0_1(shifted_minus_one);
}
