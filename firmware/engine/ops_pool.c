/* MAX_POOL_2D and AVERAGE_POOL_2D (int8), as TFLM's reference pooling: windows clipped to the
 * input, the average divides by the number of in-bounds taps, rounding half away from zero.
 * MEAN (int8), as TFLM's integer QuantizedMeanOrSum: the sum less the zero points, times a
 * multiplier that folds in 1/count (computed by the harness). */
#include "th_fixedpoint.h"
#include "th_dsp.h"
#include "th_ops.h"

typedef struct {
  int32_t y0, y1, x0, x1;
} window;

static window clip_window(const th_pool_params *p, int32_t oy, int32_t ox) {
  const int32_t iy = oy * p->stride_h - p->pad_top;
  const int32_t ix = ox * p->stride_w - p->pad_left;
  window w;
  w.y0 = iy < 0 ? 0 : iy;
  w.x0 = ix < 0 ? 0 : ix;
  w.y1 = iy + p->filter_h < p->in_h ? iy + p->filter_h : p->in_h;
  w.x1 = ix + p->filter_w < p->in_w ? ix + p->filter_w : p->in_w;
  return w;
}

/* Channels are visited in chunks held in a local accumulator, so the window is walked with
 * contiguous reads (NHWC) instead of one strided walk per channel. */
#define POOL_CHUNK 64

void th_maxpool_s8(const th_pool_params *p) {
  int32_t acc[POOL_CHUNK];
  const int32_t ch = p->channels, in_w = p->in_w;
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *in = p->input + b * p->in_h * in_w * ch;
    int8_t *out = p->output + b * p->out_h * p->out_w * ch;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
      for (int32_t ox = 0; ox < p->out_w; ++ox, out += ch) {
        const window w = clip_window(p, oy, ox);
        for (int32_t c0 = 0; c0 < ch; c0 += POOL_CHUNK) {
          const int32_t n = ch - c0 < POOL_CHUNK ? ch - c0 : POOL_CHUNK;
          for (int32_t c = 0; c < n; ++c) acc[c] = -128;
          for (int32_t y = w.y0; y < w.y1; ++y)
            for (int32_t x = w.x0; x < w.x1; ++x) {
              const int8_t *px = in + (y * in_w + x) * ch + c0;
              for (int32_t c = 0; c < n; ++c) acc[c] = px[c] > acc[c] ? px[c] : acc[c];
            }
          for (int32_t c = 0; c < n; ++c) out[c0 + c] = (int8_t)th_clamp(acc[c], p->act_min, p->act_max);
        }
      }
    }
  }
}

TH_NO_LIBCALLS void th_avgpool_s8(const th_pool_params *p) {
  int32_t acc[POOL_CHUNK];
  const int32_t ch = p->channels, in_w = p->in_w;
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *in = p->input + b * p->in_h * in_w * ch;
    int8_t *out = p->output + b * p->out_h * p->out_w * ch;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
      for (int32_t ox = 0; ox < p->out_w; ++ox, out += ch) {
        const window w = clip_window(p, oy, ox);
        const int32_t count = (w.y1 - w.y0) * (w.x1 - w.x0);
        for (int32_t c0 = 0; c0 < ch; c0 += POOL_CHUNK) {
          const int32_t n = ch - c0 < POOL_CHUNK ? ch - c0 : POOL_CHUNK;
          for (int32_t c = 0; c < n; ++c) acc[c] = 0;
          for (int32_t y = w.y0; y < w.y1; ++y)
            for (int32_t x = w.x0; x < w.x1; ++x) {
              const int8_t *px = in + (y * in_w + x) * ch + c0;
              for (int32_t c = 0; c < n; ++c) acc[c] += px[c];
            }
          for (int32_t c = 0; c < n; ++c) {
            int32_t v = acc[c];
            if (count > 0) v = v > 0 ? (v + count / 2) / count : (v - count / 2) / count;
            out[c0 + c] = (int8_t)th_clamp(v, p->act_min, p->act_max);
          }
        }
      }
    }
  }
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
          sum -= p->input_zero_point * count;
          const int32_t v = th_mul_by_quantized_multiplier(sum, p->multiplier, p->shift) + p->output_zero_point;
          *out++ = (int8_t)th_clamp(v, -128, 127);
        }
}
