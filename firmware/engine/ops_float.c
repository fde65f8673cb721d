/* Ops with float arithmetic: the float32 model edges (QUANTIZE, DEQUANTIZE) and MEAN, whose
 * TFLM reference rescales in float. Contraction into fused multiply-adds is off for this file:
 * TFLM rounds each product separately, and a fused a*b+c can differ in the last bit. */
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

void th_mean_s8(const th_mean_params *p) {
  int32_t out_dims[4], count = 1;
  for (int d = 0; d < 4; ++d) {
    out_dims[d] = p->reduce[d] ? 1 : p->dims[d];
    if (p->reduce[d]) count *= p->dims[d];
  }
  const int32_t s2 = p->dims[3], s1 = p->dims[2] * s2, s0 = p->dims[1] * s1;
  int8_t *out = p->output;
  for (int32_t o0 = 0; o0 < out_dims[0]; ++o0)
    for (int32_t o1 = 0; o1 < out_dims[1]; ++o1)
      for (int32_t o2 = 0; o2 < out_dims[2]; ++o2)
        for (int32_t o3 = 0; o3 < out_dims[3]; ++o3) {
          int32_t sum = 0;
          for (int32_t r0 = 0; r0 < (p->reduce[0] ? p->dims[0] : 1); ++r0)
            for (int32_t r1 = 0; r1 < (p->reduce[1] ? p->dims[1] : 1); ++r1)
              for (int32_t r2 = 0; r2 < (p->reduce[2] ? p->dims[2] : 1); ++r2)
                for (int32_t r3 = 0; r3 < (p->reduce[3] ? p->dims[3] : 1); ++r3)
                  sum += p->input[(o0 + r0) * s0 + (o1 + r1) * s1 + (o2 + r2) * s2 + (o3 + r3)];
          const float mean = (float)sum / (float)count;
          float r = roundf(mean * p->scale + p->bias) + (float)p->output_zero_point;
          r = r > 127.0f ? 127.0f : (r < -128.0f ? -128.0f : r);
          *out++ = (int8_t)r;
        }
}
