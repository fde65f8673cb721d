/* The optimized CONV_2D layout (th_kernels.h): the code generator lays it out offline in Python
 * (harness/codegen/pack.py); this C version serves the kernel benchmark and the tests, which check
 * that both agree. */
#include <stddef.h>

#include "th_kernels.h"

#define SMALL_LIMIT (1 << 29) /* TH_DSP_SMALL_ACC_LIMIT */

int32_t th_conv_packed_words(const th_conv_params *p) {
  const int64_t k = (int64_t)p->k_h * p->k_w * p->in_c;
  if (p->out_c < 2 || (p->out_c & 1) || k < 1 || k * 255 * 128 >= SMALL_LIMIT) return 0;
  for (int32_t ch = 0; ch < p->out_c; ++ch) {
    const int32_t bias = p->bias ? p->bias[ch] : 0, shift = p->out_shift[ch];
    if (shift > -1 || shift < -21 || bias >= SMALL_LIMIT || bias <= -SMALL_LIMIT) return 0;
  }
  return (p->out_c / 2) * (int32_t)(8 + 4 * ((k + 3) / 4));
}

static uint32_t pair16(int32_t lo, int32_t hi) { return ((uint32_t)hi << 16) | ((uint32_t)lo & 0xFFFFu); }

void th_conv_pack(const th_conv_params *p, uint32_t *dst) {
  static const int8_t lane_order[4] = {0, 2, 1, 3};
  const int32_t k = p->k_h * p->k_w * p->in_c, groups = (k + 3) / 4;
  for (int32_t c0 = 0; c0 < p->out_c; c0 += 2) {
    for (int32_t c = c0; c < c0 + 2; ++c) *dst++ = (uint32_t)(2 * (p->bias ? p->bias[c] : 0));
    for (int32_t g = 0; g < groups; ++g) {
      for (int32_t c = c0; c < c0 + 2; ++c) {
        int32_t v[4];
        for (int32_t l = 0; l < 4; ++l) {
          const int32_t i = 4 * g + lane_order[l];
          v[l] = i < k ? 2 * p->filter[(size_t)c * k + i] : 0;
        }
        *dst++ = pair16(v[0], v[1]);
        *dst++ = pair16(v[2], v[3]);
      }
    }
    for (int32_t c = c0; c < c0 + 2; ++c) *dst++ = (uint32_t)p->out_multiplier[c];
    for (int32_t c = c0; c < c0 + 2; ++c) {
      const int32_t e = -p->out_shift[c];
      *dst++ = (uint32_t)(1 << (e - 1)) + ((uint32_t)p->output_offset << e);
    }
    for (int32_t c = c0; c < c0 + 2; ++c) *dst++ = (uint32_t)-p->out_shift[c];
  }
}
