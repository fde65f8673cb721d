#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "th_ops.h"
/* QUANTIZE / DEQUANTIZE against TFLM's formulas (libm roundf of a float quotient; a double product
 * rounded to float) on random floats, halfway points, their neighbours and every int8 value. */
#pragma GCC optimize("fp-contract=off")
static uint64_t s = 88172645463325252ull;
static uint32_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return (uint32_t)s; }
static float rnd_scale(void) { return ldexpf(1.0f + (float)(rnd() % 1000000u) / 1e6f, -(int)(rnd() % 20u)); }
static int8_t quant_ref(float x, float scale, int32_t zp) {
  int32_t q = (int32_t)roundf(x / scale) + zp;
  return (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
}
int main(void) {
  long bad = 0, n = 0;
  enum { N = 4096 };
  static float in[N];
  static int8_t got[N];
  for (int round = 0; round < 400; ++round) {
    const float scale = rnd_scale();
    const int32_t zp = (int32_t)(rnd() % 256u) - 128;
    for (int i = 0; i < N; ++i) {
      const int kind = i % 4;
      const float half = ((float)(int32_t)(rnd() % 600u) - 300.0f) + 0.5f; /* k + 0.5 quotients */
      float x = kind == 0 ? ((float)(int32_t)rnd() / 2147483648.0f) * 300.0f * scale
                : kind == 1 ? half * scale : kind == 2 ? nextafterf(half * scale, 0.0f)
                : nextafterf(half * scale, 1e30f);
      if (i == 0) x = 0.0f;
      if (i == 1) x = -0.0f;
      if (i == 2) x = 1e12f;
      if (i == 3) x = -1e12f;
      in[i] = x;
    }
    th_quantize_f32_s8(in, got, N, scale, zp);
    for (int i = 0; i < N; ++i, ++n) bad += got[i] != quant_ref(in[i], scale, zp);
    int8_t q[256];
    float out[256];
    for (int v = 0; v < 256; ++v) q[v] = (int8_t)(v - 128);
    th_dequantize_s8_f32(q, out, 256, scale, zp);
    for (int v = 0; v < 256; ++v, ++n) {
      const float want = (float)((double)scale * (double)(q[v] - zp));
      bad += memcmp(&want, &out[v], sizeof want) != 0;
    }
  }
  printf("bad %ld of %ld\n", bad, n);
  return bad != 0;
}
