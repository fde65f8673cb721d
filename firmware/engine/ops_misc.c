/* Data movement (PAD, CONCATENATION) and the fixed-point activations (SOFTMAX, LOGISTIC). */
#include <string.h>

#include "th_fixedpoint.h"
#include "th_ops.h"

void th_pad_s8(const th_pad_params *p) {
  const int32_t *od = p->out_dims;
  const int32_t *id = p->in_dims;
  int8_t *out = p->output;
  for (int32_t o0 = 0; o0 < od[0]; ++o0)
    for (int32_t o1 = 0; o1 < od[1]; ++o1)
      for (int32_t o2 = 0; o2 < od[2]; ++o2)
        for (int32_t o3 = 0; o3 < od[3]; ++o3) {
          const int32_t i0 = o0 - p->before[0], i1 = o1 - p->before[1];
          const int32_t i2 = o2 - p->before[2], i3 = o3 - p->before[3];
          const int inside = i0 >= 0 && i0 < id[0] && i1 >= 0 && i1 < id[1] && i2 >= 0 && i2 < id[2] &&
                             i3 >= 0 && i3 < id[3];
          *out++ = inside ? p->input[((i0 * id[1] + i1) * id[2] + i2) * id[3] + i3] : p->pad_value;
        }
}

void th_concat(const void *const *inputs, const int32_t *chunk_bytes, int32_t n_inputs, int32_t outer,
               void *output) {
  uint8_t *out = (uint8_t *)output;
  for (int32_t row = 0; row < outer; ++row)
    for (int32_t i = 0; i < n_inputs; ++i) {
      memcpy(out, (const uint8_t *)inputs[i] + row * chunk_bytes[i], (size_t)chunk_bytes[i]);
      out += chunk_bytes[i];
    }
}

/* exp(beta * (x - max)) in Q0 from an input difference, scaled into Q5.26 first. */
static inline int32_t softmax_exp(const th_softmax_params *p, int32_t diff) {
  const int32_t rescaled =
      th_sat_rounding_doubling_high_mul(diff * (1 << p->input_left_shift), p->input_multiplier);
  return th_fx_exp_on_negative_values(rescaled, 5);
}

void th_softmax_s8(const th_softmax_params *p) {
  for (int32_t row = 0; row < p->outer; ++row) {
    const int8_t *in = p->input + row * p->depth;
    int8_t *out = p->output + row * p->depth;
    int32_t max = -128;
    for (int32_t c = 0; c < p->depth; ++c)
      if (in[c] > max) max = in[c];
    int32_t sum_of_exps = 0; /* Q12.19 */
    for (int32_t c = 0; c < p->depth; ++c) {
      const int32_t diff = in[c] - max;
      if (diff >= p->diff_min) sum_of_exps = th_wrap_add(sum_of_exps, th_rounding_divide_by_pot(softmax_exp(p, diff), 12));
    }
    int num_bits_over_unit;
    const int32_t scale = th_fx_reciprocal(sum_of_exps, 12, &num_bits_over_unit);
    const int exponent = num_bits_over_unit + 31 - 8;
    for (int32_t c = 0; c < p->depth; ++c) {
      const int32_t diff = in[c] - max;
      if (diff >= p->diff_min) {
        const int32_t e = softmax_exp(p, diff);
        const int32_t v = th_rounding_divide_by_pot(th_sat_rounding_doubling_high_mul(scale, e), exponent);
        out[c] = (int8_t)th_clamp(v - 128, -128, 127);
      } else {
        out[c] = -128;
      }
    }
  }
}

void th_logistic_s8(const th_logistic_params *p) {
  for (int32_t i = 0; i < p->size; ++i) {
    const int32_t x = p->input[i] - p->input_zero_point;
    if (x <= -p->input_range_radius) {
      p->output[i] = -128;
    } else if (x >= p->input_range_radius) {
      p->output[i] = 127;
    } else {
      const int32_t x_q4 = th_mul_by_quantized_multiplier(x, p->input_multiplier, p->input_left_shift);
      const int32_t y_q0 = th_fx_logistic(x_q4, 4);
      const int32_t y = th_rounding_divide_by_pot(y_q0, 31 - 8) - 128;
      p->output[i] = (int8_t)th_clamp(y, -128, 127);
    }
  }
}
