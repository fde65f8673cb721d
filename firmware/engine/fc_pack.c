/* The optimized FULLY_CONNECTED weight layouts (th_kernels.h): the code generator lays the weights
 * out offline in Python (harness/codegen/pack.py); this C version serves the kernel benchmark and
 * the tests, which check that both agree. */
#include <stddef.h>

#include "th_kernels.h"

int32_t th_fc_packed_count(int32_t out_n, int32_t in_n) { return ((out_n + 3) & ~3) * in_n; }

void th_fc_pack_s16(const int8_t *weights, int32_t out_n, int32_t in_n, int32_t weights_offset, int16_t *dst) {
  static const int8_t lane_order[4] = {0, 2, 1, 3};
  const int32_t n4 = in_n & ~3;
  for (int32_t r0 = 0; r0 < out_n; r0 += 4) {
    for (int32_t g = 0; g < n4; g += 4)
      for (int32_t r = r0; r < r0 + 4; ++r)
        for (int32_t l = 0; l < 4; ++l)
          *dst++ = (int16_t)(r < out_n ? weights[(size_t)r * in_n + g + lane_order[l]] + weights_offset : 0);
    for (int32_t r = r0; r < r0 + 4; ++r)
      for (int32_t i = n4; i < in_n; ++i)
        *dst++ = (int16_t)(r < out_n ? weights[(size_t)r * in_n + i] + weights_offset : 0);
  }
}

void th_fc_pack_s8(const int8_t *weights, int32_t out_n, int32_t in_n, int8_t *dst) {
  const int32_t n4 = in_n & ~3;
  for (int32_t r0 = 0; r0 < out_n; r0 += 4) {
    for (int32_t g = 0; g < n4; g += 4)
      for (int32_t r = r0; r < r0 + 4; ++r)
        for (int32_t l = 0; l < 4; ++l) *dst++ = r < out_n ? weights[(size_t)r * in_n + g + l] : 0;
    for (int32_t r = r0; r < r0 + 4; ++r)
      for (int32_t i = n4; i < in_n; ++i) *dst++ = r < out_n ? weights[(size_t)r * in_n + i] : 0;
  }
}
