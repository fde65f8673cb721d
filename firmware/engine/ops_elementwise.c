/* ADD and MUL (int8, broadcasting), as TFLM's reference integer kernels. */
#include "th_fixedpoint.h"
#include "th_ops.h"

static inline int32_t add_one(const th_binary_params *p, int32_t a, int32_t b) {
  const int32_t sa = (a + p->input1_offset) * (1 << p->left_shift);
  const int32_t sb = (b + p->input2_offset) * (1 << p->left_shift);
  const int32_t ra = th_mul_by_quantized_multiplier(sa, p->input1_multiplier, p->input1_shift);
  const int32_t rb = th_mul_by_quantized_multiplier(sb, p->input2_multiplier, p->input2_shift);
  const int32_t out = th_mul_by_quantized_multiplier(ra + rb, p->output_multiplier, p->output_shift);
  return th_clamp(out + p->output_offset, p->act_min, p->act_max);
}

static inline int32_t mul_one(const th_binary_params *p, int32_t a, int32_t b) {
  const int32_t prod = (a + p->input1_offset) * (b + p->input2_offset);
  const int32_t out = th_mul_by_quantized_multiplier(prod, p->output_multiplier, p->output_shift);
  return th_clamp(out + p->output_offset, p->act_min, p->act_max);
}

#define BROADCAST_LOOP(P, FN)                                                                     \
  do {                                                                                            \
    int8_t *out = (P)->output;                                                                    \
    for (int32_t i0 = 0; i0 < (P)->dims[0]; ++i0)                                                 \
      for (int32_t i1 = 0; i1 < (P)->dims[1]; ++i1)                                               \
        for (int32_t i2 = 0; i2 < (P)->dims[2]; ++i2) {                                           \
          const int8_t *a = (P)->input1 + i0 * (P)->stride1[0] + i1 * (P)->stride1[1] +           \
                            i2 * (P)->stride1[2];                                                 \
          const int8_t *b = (P)->input2 + i0 * (P)->stride2[0] + i1 * (P)->stride2[1] +           \
                            i2 * (P)->stride2[2];                                                 \
          for (int32_t i3 = 0; i3 < (P)->dims[3]; ++i3)                                           \
            *out++ = (int8_t)FN((P), a[i3 * (P)->stride1[3]], b[i3 * (P)->stride2[3]]);           \
        }                                                                                         \
  } while (0)

void th_add_s8(const th_binary_params *p) { BROADCAST_LOOP(p, add_one); }

void th_mul_s8(const th_binary_params *p) { BROADCAST_LOOP(p, mul_one); }

void th_requantize_s8(const th_requant_params *p) {
  for (int32_t i = 0; i < p->size; ++i) {
    const int32_t v = th_mul_by_quantized_multiplier(p->input[i] - p->input_zero_point, p->multiplier, p->shift);
    p->output[i] = (int8_t)th_clamp(v + p->output_zero_point, p->act_min, p->act_max);
  }
}

void th_clamp_s8(const int8_t *input, int8_t *output, int32_t size, int32_t lo, int32_t hi) {
  for (int32_t i = 0; i < size; ++i) output[i] = (int8_t)th_clamp(input[i], lo, hi);
}
