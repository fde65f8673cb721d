/* ADD and MUL (int8, broadcasting), as TFLM's reference integer kernels. */
#include "th_fixedpoint.h"
#include "th_ops.h"

/* One innermost run of n elements. Everything the loop needs is copied into locals first: the
 * int8 stores may alias any memory, which would otherwise make the compiler reload the params. */
typedef struct {
  const int32_t *lut1, *lut2;
  int32_t off1, off2, out_off, mult, shift, lo, hi;
} binary_consts;

/* th_mul_by_quantized_multiplier with shift <= 0 (the tables carry any left shift), spelled out
 * so the loops keep their constants in registers. */
#define ADD_ONE(x, y)                                                                          \
  __extension__({                                                                              \
    const int32_t sum_ = th_wrap_add(lut1[(x)], lut2[(y)]);                                    \
    const int32_t high_ = (int32_t)(((int64_t)sum_ * mult + (1 << 30)) >> 31);                 \
    (high_ >> right) + (((high_ & mask) + (high_ >> 31)) > half ? 1 : 0) + out_off;            \
  })

static void add_run(const int8_t *a, int32_t sa, const int8_t *b, int32_t sb, int8_t *out, int32_t n,
                    const binary_consts *k) {
  const int32_t *lut1 = k->lut1 + 128, *lut2 = k->lut2 + 128;
  const int32_t mult = k->mult, right = -k->shift, out_off = k->out_off, lo = k->lo, hi = k->hi;
  const int32_t mask = (int32_t)(((int64_t)1 << right) - 1), half = mask >> 1;
  if (sa == 1 && sb == 1) { /* the common case: no broadcast (pointers walk, no index products) */
    for (const int8_t *end = a + n; a < end;) *out++ = (int8_t)th_clamp(ADD_ONE(*a++, *b++), lo, hi);
    return;
  }
  for (int32_t i = 0; i < n; ++i) out[i] = (int8_t)th_clamp(ADD_ONE(a[i * sa], b[i * sb]), lo, hi);
}

static void mul_run(const int8_t *a, int32_t sa, const int8_t *b, int32_t sb, int8_t *out, int32_t n,
                    const binary_consts *k) {
  const int32_t off1 = k->off1, off2 = k->off2, mult = k->mult, shift = k->shift;
  const int32_t out_off = k->out_off, lo = k->lo, hi = k->hi;
  for (int32_t i = 0; i < n; ++i) {
    const int32_t prod = (a[i * sa] + off1) * (b[i * sb] + off2);
    out[i] = (int8_t)th_clamp(th_mul_by_quantized_multiplier(prod, mult, shift) + out_off, lo, hi);
  }
}

typedef void (*binary_run)(const int8_t *, int32_t, const int8_t *, int32_t, int8_t *, int32_t,
                           const binary_consts *);

static void broadcast(const th_binary_params *p, binary_run run) {
  const binary_consts k = {p->input1_lut, p->input2_lut, p->input1_offset, p->input2_offset, p->output_offset,
                           p->output_multiplier, p->output_shift, p->act_min, p->act_max};
  int32_t d[4], s1[4], s2[4];
  for (int i = 0; i < 4; ++i) {
    d[i] = p->dims[i];
    s1[i] = p->stride1[i];
    s2[i] = p->stride2[i];
  }
  const int8_t *in1 = p->input1, *in2 = p->input2;
  int8_t *out = p->output;
  for (int32_t i0 = 0; i0 < d[0]; ++i0)
    for (int32_t i1 = 0; i1 < d[1]; ++i1)
      for (int32_t i2 = 0; i2 < d[2]; ++i2) {
        const int8_t *a = in1 + i0 * s1[0] + i1 * s1[1] + i2 * s1[2];
        const int8_t *b = in2 + i0 * s2[0] + i1 * s2[1] + i2 * s2[2];
        run(a, s1[3], b, s2[3], out, d[3], &k);
        out += d[3];
      }
}

void th_add_s8(const th_binary_params *p) { broadcast(p, add_run); }

void th_mul_s8(const th_binary_params *p) { broadcast(p, mul_run); }

void th_requantize_s8(const th_requant_params *p) {
  for (int32_t i = 0; i < p->size; ++i) {
    const int32_t v = th_mul_by_quantized_multiplier(p->input[i] - p->input_zero_point, p->multiplier, p->shift);
    p->output[i] = (int8_t)th_clamp(v + p->output_zero_point, p->act_min, p->act_max);
  }
}

void th_requantize_u8_s8(const th_requant_params *p) {
  const uint8_t *in = (const uint8_t *)p->input;
  for (int32_t i = 0; i < p->size; ++i) {
    const int32_t v = th_mul_by_quantized_multiplier(in[i] - p->input_zero_point, p->multiplier, p->shift);
    p->output[i] = (int8_t)th_clamp(v + p->output_zero_point, p->act_min, p->act_max);
  }
}

void th_requantize_s8_u8(const th_requant_params *p) {
  uint8_t *out = (uint8_t *)p->output;
  for (int32_t i = 0; i < p->size; ++i) {
    const int32_t v = th_mul_by_quantized_multiplier(p->input[i] - p->input_zero_point, p->multiplier, p->shift);
    out[i] = (uint8_t)th_clamp(v + p->output_zero_point, p->act_min, p->act_max);
  }
}

void th_clamp_s8(const int8_t *input, int8_t *output, int32_t size, int32_t lo, int32_t hi) {
  for (int32_t i = 0; i < size; ++i) output[i] = (int8_t)th_clamp(input[i], lo, hi);
}
