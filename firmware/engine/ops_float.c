/* Ops with float arithmetic: the float32 model edges (QUANTIZE, DEQUANTIZE). Contraction into
 * fused multiply-adds is off for this file: TFLM rounds each operation separately. */
#pragma GCC optimize("fp-contract=off")
#include <math.h>

#include "th_fixedpoint.h"
#include "th_ops.h"

void th_quantize_f32_s8(const float *input, int8_t *output, int32_t size, float scale, int32_t zero_point) {
  for (int32_t i = 0; i < size; ++i) {
    const int32_t q = (int32_t)roundf(input[i] / scale) + zero_point;
    output[i] = (int8_t)th_clamp(q, -128, 127);
  }
}

void th_dequantize_s8_f32(const int8_t *input, float *output, int32_t size, float scale, int32_t zero_point) {
  for (int32_t i = 0; i < size; ++i) output[i] = (float)((double)scale * (double)(input[i] - zero_point));
}
